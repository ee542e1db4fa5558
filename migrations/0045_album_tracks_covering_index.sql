-- Issue 20: an album page reads, for each album, its tracks' ids (the other artists credited on them) and
-- play counts (the album's plays). Through the old (album_id, disc_number, track_number) index each of
-- those tracks cost a read of its wide row in the tracks table, so a page of 50 random albums at 100k
-- tracks read ~500 table pages the 4 MiB page cache did not hold (getAlbumList2 random: 8.3 ms of SQL
-- against 1.7 for the newest albums, measured with sqlite3 on a warm file). With id and play_count in
-- the index the album's tracks are read from the index alone: 3.4 ms. Same name, same leading columns:
-- every query that used it still does.
DROP INDEX tracks_album;
CREATE INDEX tracks_album ON tracks (album_id, disc_number, track_number, id, play_count);
