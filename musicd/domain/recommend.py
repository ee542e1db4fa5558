"""Recommendations, stations and their reasons: the values services hand to both APIs."""

from __future__ import annotations

import msgspec

__all__ = [
    "MAX_SEEDS",
    "MODEL_VERSION",
    "STATION_KINDS",
    "TUNABLE",
    "Reason",
    "Recommendation",
    "SeedResult",
    "StationPage",
    "StationRef",
    "Tunables",
]

STATION_KINDS = ("track", "album", "artist", "genre", "playlist")

# The format of a stored recommendation model (services/recommend_models.py to_bytes); a stored model of
# another version is rebuilt.
MODEL_VERSION = 1
MAX_SEEDS = 5  # seeds of one recommendations request (artists, tracks and genres together), Spotify's limit

# Spotify's tunable track attributes musicd can measure: name -> (lowest, highest) accepted value.
# instrumentalness, liveness and speechiness need trained models musicd does not have (their
# audio-features values are null), so asking for them is refused rather than silently ignored.
TUNABLE: dict[str, tuple[float, float]] = {
    "acousticness": (0.0, 1.0),
    "danceability": (0.0, 1.0),
    "duration_ms": (0.0, 86_400_000.0),
    "energy": (0.0, 1.0),
    "key": (-1.0, 11.0),
    "loudness": (-70.0, 10.0),
    "mode": (0.0, 1.0),
    "popularity": (0.0, 100.0),
    "tempo": (0.0, 400.0),
    "time_signature": (1.0, 12.0),
    "valence": (0.0, 1.0),
}


class Tunables(msgspec.Struct, frozen=True):
    """min_/max_/target_ values of TUNABLE attributes (validated: min <= target <= max)."""

    minimum: dict[str, float] = msgspec.field(default_factory=dict)
    maximum: dict[str, float] = msgspec.field(default_factory=dict)
    target: dict[str, float] = msgspec.field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.minimum or self.maximum or self.target)


class Reason(msgspec.Struct, frozen=True):
    """Why a track was picked: `kind` is "played_with" (co-listening), "taste" (listeners like you),
    "sounds_like" (audio similarity), "artist", "genre", "seed" (it is one of the station's own), or
    "popular"; `track_id`/`artist_id` name what it refers to; `text` says it to a person."""

    kind: str
    text: str
    track_id: str | None = None
    artist_id: str | None = None


class Recommendation(msgspec.Struct, frozen=True):
    track_id: str
    score: float
    reason: Reason


class SeedResult(msgspec.Struct, frozen=True):
    """One seed of a recommendations request and how many candidates it brought before and after filters."""

    kind: str  # "track" | "artist" | "genre"
    id: str
    initial_pool_size: int
    after_filtering_size: int


class StationRef(msgspec.Struct, frozen=True):
    """A radio station: what it starts from (`kind` in STATION_KINDS; a genre's id is its category id)."""

    kind: str
    id: str

    @property
    def uri(self) -> str:
        return f"spotify:station:{self.kind}:{self.id}"


class StationPage(msgspec.Struct, frozen=True):
    """Tracks `offset` .. of a station (it never ends: `next_offset` is always offset + len(items))."""

    station: StationRef
    name: str
    offset: int
    items: list[Recommendation]

    @property
    def next_offset(self) -> int:
        return self.offset + len(self.items)
