"""Token-bucket rate limits per (subject, action), kept in memory: one process serves the household."""

from __future__ import annotations

import time
from dataclasses import dataclass

from musicd.errors import RateLimitError

__all__ = ["Bucket", "RateLimiter"]


@dataclass(frozen=True)
class Bucket:
    """`burst` requests at once, refilled at `per_second`."""

    burst: float
    per_second: float


class RateLimiter:
    """Buckets per (action, subject); an action with no bucket is unlimited."""

    _MAX_KEYS = 100_000  # bounded memory under a flood of distinct subjects

    def __init__(self, buckets: dict[str, Bucket]) -> None:
        self.buckets = buckets
        self._state: dict[tuple[str, str], tuple[float, float]] = {}

    def take(self, action: str, subject: str, cost: float = 1.0) -> None:
        """Spend `cost` tokens or raise RateLimitError with the seconds until enough are back."""
        wait = self.try_take(action, subject, cost)
        if wait > 0:
            raise RateLimitError(f"too many {action} requests; retry in {wait:.0f} s", retry_after=wait)

    def try_take(self, action: str, subject: str, cost: float = 1.0) -> float:
        """Spend `cost` tokens if there are enough and return 0, else return the seconds to wait."""
        bucket = self.buckets.get(action)
        if bucket is None:
            return 0.0
        now = time.monotonic()
        key = (action, subject)
        tokens, last = self._state.get(key, (bucket.burst, now))
        tokens = min(bucket.burst, tokens + (now - last) * bucket.per_second)
        if tokens < cost:
            self._state[key] = (tokens, now)
            return (cost - tokens) / bucket.per_second
        if len(self._state) >= self._MAX_KEYS and key not in self._state:
            self._prune(now)
        self._state[key] = (tokens - cost, now)
        return 0.0

    def refund(self, action: str, subject: str, cost: float = 1.0) -> None:
        """Give tokens back (a login that succeeded should not count against the user)."""
        bucket = self.buckets.get(action)
        if bucket is not None and (state := self._state.get((action, subject))):
            self._state[(action, subject)] = (min(bucket.burst, state[0] + cost), state[1])

    def _prune(self, now: float) -> None:
        # Drop buckets that have refilled completely: forgetting them changes nothing.
        full = [k for k, (tokens, last) in self._state.items()
                if tokens + (now - last) * self.buckets[k[0]].per_second >= self.buckets[k[0]].burst]
        for k in full:
            del self._state[k]
