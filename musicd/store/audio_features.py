"""Stored audio analysis (table track_features): what is left to analyse, results per track, reads."""

from __future__ import annotations

import json
import sys
from array import array
from collections.abc import Sequence

import msgspec

from musicd.domain.audio import AudioAnalysis, TrackFeatures
from musicd.store.db import Database, utc_now

__all__ = ["AnalysisCounts", "AnalysisJob", "AudioFeatureRepository"]

_IDS = "SELECT value FROM json_each(?)"
_NUMBERS = ("tempo", "tempo_confidence", "loudness", "energy", "brightness", "beat_strength", "danceability",
            "acousticness", "valence", "key", "mode", "key_confidence", "time_signature")
_COLS = ("status", "error", "seconds", *_NUMBERS, "timbre")
# A row is current when it was made from the track's present content by this analyser version.
_CURRENT = "f.size = t.size AND f.fingerprint = t.fingerprint AND f.version = ?"


class AnalysisJob(msgspec.Struct, frozen=True, array_like=True):
    """A track to analyse and the content it has now (stored with the result)."""

    id: str
    path: str
    size: int
    fingerprint: str
    duration: float
    channels: int | None


class AnalysisCounts(msgspec.Struct, frozen=True):
    tracks: int
    ok: int
    silent: int
    failed: int  # failed on the track's present content: not retried unless asked
    pending: int  # never analysed, changed since, or analysed by an older analyser


def _pack(timbre: Sequence[float]) -> bytes | None:
    if not timbre:
        return None
    a = array("f", timbre)
    if sys.byteorder != "little":
        a.byteswap()
    return a.tobytes()


def _unpack(blob: bytes | None) -> tuple[float, ...]:
    if not blob:
        return ()
    a = array("f")
    a.frombytes(blob)
    if sys.byteorder != "little":
        a.byteswap()
    return tuple(round(v, 4) for v in a)


def _analysis(row: Sequence[object], first: int) -> AudioAnalysis:
    values = dict(zip(_COLS, row[first:first + len(_COLS)], strict=True))
    values["timbre"] = _unpack(values["timbre"])  # type: ignore[arg-type]
    return msgspec.convert(values, AudioAnalysis)


class AudioFeatureRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def pending(self, version: int, *, retry_failed: bool = False) -> list[AnalysisJob]:
        """Tracks to analyse, most played and newest first: no row yet, a row of other content or an
        older analyser, and (with `retry_failed`) current rows that failed."""
        failed = " OR f.status = 'failed'" if retry_failed else ""
        rows = await self.db.fetchall(
            "SELECT t.id, t.path, t.size, t.fingerprint, t.duration, t.channels FROM tracks t"
            " LEFT JOIN track_features f ON f.track_id = t.id"
            f" WHERE f.track_id IS NULL OR NOT ({_CURRENT}){failed}"
            " ORDER BY t.play_count DESC, t.created_at DESC, t.id",
            (version,),
        )
        return [AnalysisJob(*r) for r in rows]

    async def save(self, job: AnalysisJob, result: AudioAnalysis, version: int) -> bool:
        """Store one track's result (replacing an older one); False when the track is gone meanwhile."""
        values = [getattr(result, c) for c in _COLS[:-1]] + [_pack(result.timbre)]
        cols = ("track_id", "size", "fingerprint", "version", *_COLS, "analysed_at")
        params = [job.id, job.size, job.fingerprint, version, *values, utc_now(), job.id]
        n = await self.db.execute(
            f"INSERT INTO track_features ({', '.join(cols)}) SELECT {', '.join('?' * len(cols))}"
            " WHERE EXISTS (SELECT 1 FROM tracks WHERE id = ?)"
            " ON CONFLICT (track_id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in cols[1:]),
            params,
        )
        return n > 0

    async def counts(self, version: int) -> AnalysisCounts:
        """How far the library's analysis is."""
        row = await self.db.fetchone(
            f"SELECT count(*), coalesce(sum(f.status = 'ok' AND {_CURRENT}), 0),"
            f" coalesce(sum(f.status = 'silent' AND {_CURRENT}), 0),"
            f" coalesce(sum(f.status = 'failed' AND {_CURRENT}), 0)"
            " FROM tracks t LEFT JOIN track_features f ON f.track_id = t.id",
            (version, version, version),
        )
        tracks, ok, silent, failed = (int(v) for v in row) if row else (0, 0, 0, 0)
        return AnalysisCounts(tracks, ok, silent, failed, tracks - ok - silent - failed)

    async def features(self, track_ids: Sequence[str]) -> dict[str, TrackFeatures]:
        """Stored 'ok' and 'silent' results of these tracks, by id (a changed file keeps its old
        features until it is analysed again; failed and unknown tracks are absent)."""
        rows = await self.db.fetchall(
            f"SELECT t.id, t.duration, f.analysed_at, {', '.join('f.' + c for c in _COLS)} FROM tracks t"
            f" JOIN track_features f ON f.track_id = t.id WHERE t.id IN ({_IDS}) AND f.status != 'failed'",
            (json.dumps(list(track_ids)),),
        )
        return {r[0]: TrackFeatures(track_id=r[0], duration=float(r[1]), analysed_at=r[2], analysis=_analysis(r, 3))
                for r in rows}

    async def state(self, track_id: str) -> tuple[bool, str | None]:
        """(the track exists, its analysis status or None when it has no row)."""
        row = await self.db.fetchone(
            "SELECT f.status FROM tracks t LEFT JOIN track_features f ON f.track_id = t.id WHERE t.id = ?", (track_id,)
        )
        return (False, None) if row is None else (True, row[0])

    async def all_ok(self) -> list[tuple[str, AudioAnalysis]]:
        """Every track with an 'ok' analysis, in a stable order (the feature matrix's rows)."""
        rows = await self.db.fetchall(
            f"SELECT f.track_id, {', '.join('f.' + c for c in _COLS)} FROM track_features f"
            " WHERE f.status = 'ok' ORDER BY f.track_id"
        )
        return [(r[0], _analysis(r, 1)) for r in rows]
