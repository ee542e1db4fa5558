"""The OpenSubsonic JSON shapes (opensubsonic.netlify.app/docs/responses), as strict msgspec Structs.

A JSON response is decoded into `Envelope`: a missing required field, a value of the wrong type (a
number sent as a string, a time that is not ISO 8601, an enum outside its values) or a field that the
OpenSubsonic pages do not document fails the decode.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

__all__ = ["Envelope", "Response", "check_json"]

Rating = Annotated[int, msgspec.Meta(ge=1, le=5)]
AvgRating = Annotated[float, msgspec.Meta(ge=1, le=5)]


class S(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class ItemGenre(S):
    name: str


class ItemDate(S):
    year: int | None = None
    month: int | None = None
    day: int | None = None


class RecordLabel(S):
    name: str


class DiscTitle(S):
    disc: int
    title: str
    coverArt: str | None = None


class ReplayGain(S):
    trackGain: float | None = None
    albumGain: float | None = None
    trackPeak: float | None = None
    albumPeak: float | None = None
    baseGain: float | None = None
    fallbackGain: float | None = None


class ArtistID3(S):
    id: str
    name: str
    coverArt: str | None = None
    artistImageUrl: str | None = None
    albumCount: int | None = None
    starred: datetime | None = None
    musicBrainzId: str | None = None
    sortName: str | None = None
    roles: list[str] | None = None
    userRating: Rating | None = None
    averageRating: AvgRating | None = None


class Contributor(S):
    role: str
    artist: ArtistID3
    subRole: str | None = None


class Work(S):
    name: str
    musicBrainzId: str | None = None


class Movement(S):
    name: str
    number: int | None = None
    count: int | None = None


class Child(S):
    id: str
    isDir: bool
    title: str
    parent: str | None = None
    album: str | None = None
    artist: str | None = None
    track: int | None = None
    year: int | None = None
    genre: str | None = None
    coverArt: str | None = None
    size: int | None = None
    contentType: str | None = None
    suffix: str | None = None
    transcodedContentType: str | None = None
    transcodedSuffix: str | None = None
    duration: int | None = None
    bitRate: int | None = None
    bitDepth: int | None = None
    samplingRate: int | None = None
    channelCount: int | None = None
    path: str | None = None
    isVideo: bool | None = None
    userRating: Rating | None = None
    averageRating: AvgRating | None = None
    playCount: int | None = None
    totalPlayCount: int | None = None
    userPlayCount: int | None = None
    discNumber: int | None = None
    created: datetime | None = None
    starred: datetime | None = None
    albumId: str | None = None
    artistId: str | None = None
    type: Literal["music", "podcast", "audiobook", "video"] | None = None
    mediaType: Literal["song", "album", "artist"] | None = None
    bookmarkPosition: int | None = None
    originalWidth: int | None = None
    originalHeight: int | None = None
    played: datetime | None = None
    bpm: int | None = None
    comment: str | None = None
    sortName: str | None = None
    musicBrainzId: str | None = None
    isrc: list[str] | None = None
    genres: list[ItemGenre] | None = None
    artists: list[ArtistID3] | None = None
    displayArtist: str | None = None
    albumArtists: list[ArtistID3] | None = None
    displayAlbumArtist: str | None = None
    contributors: list[Contributor] | None = None
    displayComposer: str | None = None
    moods: list[str] | None = None
    replayGain: ReplayGain | None = None
    explicitStatus: Literal["explicit", "clean", ""] | None = None
    works: list[Work] | None = None
    movements: list[Movement] | None = None
    groupings: list[str] | None = None


class NowPlayingEntry(Child, kw_only=True):
    username: str
    minutesAgo: int
    playerId: int
    playerName: str | None = None
    state: str | None = None
    positionMs: int | None = None
    playbackRate: float | None = None


class AlbumID3(S):
    id: str
    name: str
    songCount: int
    duration: int
    created: datetime
    version: str | None = None
    artist: str | None = None
    artistId: str | None = None
    coverArt: str | None = None
    playCount: int | None = None
    starred: datetime | None = None
    year: int | None = None
    genre: str | None = None
    played: datetime | None = None
    userRating: Rating | None = None
    recordLabels: list[RecordLabel] | None = None
    musicBrainzId: str | None = None
    genres: list[ItemGenre] | None = None
    artists: list[ArtistID3] | None = None
    displayArtist: str | None = None
    releaseTypes: list[str] | None = None
    moods: list[str] | None = None
    sortName: str | None = None
    originalReleaseDate: ItemDate | None = None
    releaseDate: ItemDate | None = None
    isCompilation: bool | None = None
    explicitStatus: Literal["explicit", "clean", ""] | None = None
    discTitles: list[DiscTitle] | None = None


class AlbumWithSongsID3(AlbumID3, kw_only=True):
    song: list[Child] | None = None


class ArtistWithAlbumsID3(ArtistID3, kw_only=True):
    album: list[AlbumID3] | None = None


class Artist(S):
    id: str
    name: str
    artistImageUrl: str | None = None
    starred: datetime | None = None
    userRating: Rating | None = None
    averageRating: AvgRating | None = None


class Index(S):
    name: str
    artist: list[Artist] | None = None


class IndexID3(S):
    name: str
    artist: list[ArtistID3] | None = None


class Indexes(S):
    ignoredArticles: str
    lastModified: int
    shortcut: list[Artist] | None = None
    child: list[Child] | None = None
    index: list[Index] | None = None


class ArtistsID3(S):
    ignoredArticles: str
    index: list[IndexID3] | None = None


class Genre(S):
    value: str
    songCount: int
    albumCount: int


class Genres(S):
    genre: list[Genre] | None = None


class MusicFolder(S):
    id: int
    name: str | None = None


class MusicFolders(S):
    musicFolder: list[MusicFolder] | None = None


class Directory(S):
    id: str
    name: str
    parent: str | None = None
    starred: datetime | None = None
    userRating: Rating | None = None
    averageRating: AvgRating | None = None
    playCount: int | None = None
    child: list[Child] | None = None


class AlbumList(S):
    album: list[Child] | None = None


class AlbumList2(S):
    album: list[AlbumID3] | None = None


class Songs(S):
    song: list[Child] | None = None


class NowPlaying(S):
    entry: list[NowPlayingEntry] | None = None


class SearchResult(S):
    offset: int
    totalHits: int
    match: list[Child] | None = None


class SearchResult2(S):
    artist: list[Artist] | None = None
    album: list[Child] | None = None
    song: list[Child] | None = None


class SearchResult3(S):
    artist: list[ArtistID3] | None = None
    album: list[AlbumID3] | None = None
    song: list[Child] | None = None


class Playlist(S):
    id: str
    name: str
    songCount: int
    duration: int
    created: datetime
    changed: datetime
    comment: str | None = None
    owner: str | None = None
    public: bool | None = None
    coverArt: str | None = None
    allowedUser: list[str] | None = None
    readonly: bool | None = None
    validUntil: datetime | None = None


class PlaylistWithSongs(Playlist, kw_only=True):
    entry: list[Child] | None = None


class Playlists(S):
    playlist: list[Playlist] | None = None


class Lyrics(S):
    value: str
    artist: str | None = None
    title: str | None = None


class Line(S):
    value: str
    start: int | None = None


class StructuredLyrics(S):
    lang: str
    synced: bool
    line: list[Line]
    displayArtist: str | None = None
    displayTitle: str | None = None
    offset: int | None = None
    kind: Literal["main", "translation", "pronunciation"] | None = None


class LyricsList(S):
    structuredLyrics: list[StructuredLyrics] | None = None


class Bookmark(S):
    position: int
    username: str
    created: datetime
    changed: datetime
    entry: Child
    comment: str | None = None


class Bookmarks(S):
    bookmark: list[Bookmark] | None = None


class PlayQueue(S):
    username: str
    changed: datetime
    changedBy: str
    current: str | None = None
    position: int | None = None
    entry: list[Child] | None = None


class PlayQueueByIndex(S):
    username: str
    changed: datetime
    changedBy: str
    currentIndex: int | None = None
    position: int | None = None
    entry: list[Child] | None = None


class Share(S):
    id: str
    url: str
    username: str
    created: datetime
    visitCount: int
    description: str | None = None
    expires: datetime | None = None
    lastVisited: datetime | None = None
    entry: list[Child] | None = None


class Shares(S):
    share: list[Share] | None = None


class AlbumInfo(S):
    notes: str | None = None
    musicBrainzId: str | None = None
    lastFmUrl: str | None = None
    smallImageUrl: str | None = None
    mediumImageUrl: str | None = None
    largeImageUrl: str | None = None


class ArtistInfo(S):
    biography: str | None = None
    musicBrainzId: str | None = None
    lastFmUrl: str | None = None
    smallImageUrl: str | None = None
    mediumImageUrl: str | None = None
    largeImageUrl: str | None = None
    similarArtist: list[Artist] | None = None


class ArtistInfo2(ArtistInfo, kw_only=True):
    similarArtist: list[ArtistID3] | None = None  # type: ignore[assignment]


class License(S):
    valid: bool
    email: str | None = None
    licenseExpires: datetime | None = None
    trialExpires: datetime | None = None


class ScanStatus(S):
    scanning: bool
    count: int | None = None


class User(S):
    username: str
    scrobblingEnabled: bool
    adminRole: bool
    settingsRole: bool
    downloadRole: bool
    uploadRole: bool
    playlistRole: bool
    coverArtRole: bool
    commentRole: bool
    podcastRole: bool
    streamRole: bool
    jukeboxRole: bool
    shareRole: bool
    videoConversionRole: bool
    email: str | None = None
    maxBitRate: int | None = None
    avatarLastChanged: datetime | None = None
    folder: list[int] | None = None


class Users(S):
    user: list[User] | None = None


class Error(S):
    code: Literal[0, 10, 20, 30, 40, 41, 42, 43, 44, 50, 60, 70]
    message: str | None = None
    helpUrl: str | None = None


class OpenSubsonicExtension(S):
    name: str
    versions: list[int]


class TokenInfo(S):
    username: str


class PodcastEpisode(Child, kw_only=True):
    channelId: str
    status: Literal["new", "downloading", "completed", "error", "deleted", "skipped"]
    streamId: str | None = None
    description: str | None = None
    publishDate: datetime | None = None


class PodcastChannel(S):
    id: str
    url: str
    status: Literal["new", "downloading", "completed", "error", "deleted", "skipped"]
    title: str | None = None
    description: str | None = None
    coverArt: str | None = None
    originalImageUrl: str | None = None
    errorMessage: str | None = None
    episode: list[PodcastEpisode] | None = None


class Podcasts(S):
    channel: list[PodcastChannel] | None = None


class NewestPodcasts(S):
    episode: list[PodcastEpisode] | None = None


class Response(S):
    status: Literal["ok", "failed"]
    version: str
    type: str
    serverVersion: str
    openSubsonic: bool
    musicFolders: MusicFolders | None = None
    indexes: Indexes | None = None
    directory: Directory | None = None
    genres: Genres | None = None
    artists: ArtistsID3 | None = None
    artist: ArtistWithAlbumsID3 | None = None
    album: AlbumWithSongsID3 | None = None
    song: Child | None = None
    nowPlaying: NowPlaying | None = None
    searchResult: SearchResult | None = None
    searchResult2: SearchResult2 | None = None
    searchResult3: SearchResult3 | None = None
    playlists: Playlists | None = None
    playlist: PlaylistWithSongs | None = None
    license: License | None = None
    users: Users | None = None
    user: User | None = None
    albumList: AlbumList | None = None
    albumList2: AlbumList2 | None = None
    randomSongs: Songs | None = None
    songsByGenre: Songs | None = None
    lyrics: Lyrics | None = None
    lyricsList: LyricsList | None = None
    bookmarks: Bookmarks | None = None
    playQueue: PlayQueue | None = None
    playQueueByIndex: PlayQueueByIndex | None = None
    shares: Shares | None = None
    starred: SearchResult2 | None = None
    starred2: SearchResult3 | None = None
    albumInfo: AlbumInfo | None = None
    artistInfo: ArtistInfo | None = None
    artistInfo2: ArtistInfo2 | None = None
    similarSongs: Songs | None = None
    similarSongs2: Songs | None = None
    topSongs: Songs | None = None
    scanStatus: ScanStatus | None = None
    error: Error | None = None
    openSubsonicExtensions: list[OpenSubsonicExtension] | None = None
    tokenInfo: TokenInfo | None = None
    podcasts: Podcasts | None = None
    newestPodcasts: NewestPodcasts | None = None
    podcastEpisode: PodcastEpisode | None = None


class Envelope(S):
    response: Response = msgspec.field(name="subsonic-response")


def check_json(body: bytes) -> Response:
    """Decode a JSON response strictly; at most one payload, and an error exactly when it failed."""
    r = msgspec.json.decode(body, type=Envelope).response
    payloads = [f for f in Response.__struct_fields__[5:] if getattr(r, f) is not None]
    assert len(payloads) <= 1, payloads
    assert (r.status == "failed") == (r.error is not None), r
    return r
