"""/v1/audio-features: a track's audio features in the shape of Spotify's (withdrawn) endpoint,
computed by musicd's own analysis of the file.

Spotify's speechiness, instrumentalness and liveness come from trained models musicd does not have:
they are null. energy, danceability, acousticness, valence and time_signature are estimates from
measured features (see README, "Audio analysis"). musicd adds tempo_confidence, key_confidence,
beat_strength and brightness (spectral centroid, Hz).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import Parameter

from musicd.domain.audio import TrackFeatures
from musicd.http.v1.shapes import ERRORS, Links, links, parse_id, parse_ids, uri
from musicd.services.registry import Services

__all__ = ["AudioFeaturesController", "audio_features_object"]

MAX_IDS = 100  # as Spotify
SILENT_LOUDNESS = -70.0  # LUFS: a silent track is below EBU R128's absolute gate

Ids = Annotated[str, Parameter(description="Comma-separated track ids or URIs (at most 100)")]


def audio_features_object(ln: Links, f: TrackFeatures) -> dict[str, Any]:
    """Spotify's audio features object of one analysed track."""
    a = f.analysis
    silent = a.status == "silent"
    return {
        "acousticness": a.acousticness,
        "analysis_url": None,  # musicd has no /v1/audio-analysis
        "danceability": 0.0 if silent else a.danceability,
        "duration_ms": round(f.duration * 1000),
        "energy": 0.0 if silent else a.energy,
        "id": f.track_id,
        "instrumentalness": None,
        "key": -1 if silent or a.key is None else a.key,
        "liveness": None,
        "loudness": SILENT_LOUDNESS if silent else a.loudness,
        "mode": a.mode,
        "speechiness": None,
        "tempo": 0.0 if silent else a.tempo,
        "time_signature": a.time_signature,
        "track_href": ln.href("track", f.track_id),
        "type": "audio_features",
        "uri": uri("track", f.track_id),
        "valence": a.valence,
        "tempo_confidence": a.tempo_confidence,
        "key_confidence": a.key_confidence,
        "beat_strength": a.beat_strength,
        "brightness": a.brightness,
    }


class AudioFeaturesController(Controller):
    path = "/v1/audio-features"
    tags = ["audio analysis"]

    @get("/{track_id:str}", responses=ERRORS)
    async def one(self, request: Request[Any, Any, Any], track_id: str, services: Services) -> dict[str, Any]:
        """A track's audio features; 404 when the track is unknown or not analysed (yet)."""
        f = await services.analysis.track_features(parse_id(track_id, "track"))
        return audio_features_object(links(request), f)

    @get("/", responses=ERRORS)
    async def several(self, request: Request[Any, Any, Any], ids: Ids, services: Services) -> dict[str, Any]:
        """Several tracks' audio features; null in place of an unknown or not analysed track."""
        found = await services.analysis.audio_features(parse_ids(ids, "track", most=MAX_IDS))
        ln = links(request)
        return {"audio_features": [audio_features_object(ln, f) if f else None for f in found]}
