"""What a Subsonic endpoint gets (the request's parameters, the user, the services) and the registry of endpoints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litestar import Request, Response
from litestar.types import ASGIApp

from musicd.domain.models import User
from musicd.domain.numbers import NumberError, parse_int
from musicd.http.subsonic.envelope import ERR_GENERIC, ERR_MISSING, SubsonicError

if TYPE_CHECKING:
    from musicd.services.registry import Services

__all__ = ["ENDPOINTS", "Ctx", "Endpoint", "Reply", "endpoint"]

Reply = dict[str, Any] | Response[Any] | ASGIApp | None


class Ctx:
    """One call: its parameters (query string and form body merged), the caller and the services."""

    __slots__ = ("callback", "client", "fmt", "params", "request", "services", "user")

    def __init__(self, request: Request[Any, Any, Any], services: Services, params: dict[str, list[str]]) -> None:
        self.request = request
        self.services = services
        self.params = params
        self.fmt = "xml"
        self.callback: str | None = None
        self.read_format()
        self.client = request.client.host if request.client else "unknown"
        self.user: User = None  # type: ignore[assignment]  # set by auth before any endpoint runs

    def read_format(self) -> None:
        """Take `f` and `callback` from the parameters (again, once a form body has added to them)."""
        self.fmt = (self.params.get("f") or ["xml"])[-1].lower()
        self.callback = (self.params.get("callback") or [None])[-1]

    def opt(self, name: str, default: str | None = None) -> str | None:
        """The last value of a parameter, or `default`."""
        v = self.params.get(name)
        return v[-1] if v else default

    def req(self, name: str) -> str:
        """A required parameter: error 10 when missing or empty."""
        v = self.params.get(name)
        if not v or v[-1] == "":
            raise SubsonicError(ERR_MISSING, f"required parameter is missing: {name}")
        return v[-1]

    def all(self, name: str) -> list[str]:
        """Every value of a repeatable parameter (`id=1&id=2`), empty ones dropped."""
        return [x for x in self.params.get(name, ()) if x != ""]

    def int(self, name: str, default: int | None = None, lo: int | None = None, hi: int | None = None) -> int | None:
        """An integer parameter, clamped to [lo, hi]; error 0 naming it when it is not a 64-bit integer."""
        v = self.opt(name)
        if v is None or v == "":
            return default
        n = _number(name, v)
        if lo is not None and n < lo:
            n = lo
        if hi is not None and n > hi:
            n = hi
        return n

    def req_int(self, name: str) -> int:
        """A required integer parameter: error 10 when missing, 0 when it is not a 64-bit integer."""
        return _number(name, self.req(name))

    def ints(self, name: str) -> list[int]:
        """Every value of a repeatable integer parameter (`songIndexToRemove=1&songIndexToRemove=4`)."""
        return [_number(name, v) for v in self.all(name)]

    def bool(self, name: str, default: bool = False) -> bool:
        v = self.opt(name)
        if v is None or v == "":
            return default
        return v.lower() in ("true", "1", "yes", "on")



def _number(name: str, text: str) -> int:
    # The one parser of numeric parameters: ASCII decimal within SQLite's signed 64 bits, or a client error.
    try:
        return parse_int(text)
    except NumberError as e:
        shown = text if len(text) <= 24 else f"{text[:24]}... ({len(text)} characters)"
        raise SubsonicError(ERR_GENERIC, f"parameter {name} {e}, not {shown!r}") from None


@dataclass(frozen=True)
class Endpoint:
    fn: Callable[[Ctx], Awaitable[Reply]]
    auth: bool = True


ENDPOINTS: dict[str, Endpoint] = {}


def endpoint(*names: str, auth: bool = True) -> Callable[[Callable[[Ctx], Awaitable[Reply]]],
                                                          Callable[[Ctx], Awaitable[Reply]]]:
    """Register a handler under one or more method names (matched case-sensitively, like Subsonic)."""

    def register(fn: Callable[[Ctx], Awaitable[Reply]]) -> Callable[[Ctx], Awaitable[Reply]]:
        for name in names:
            if name in ENDPOINTS:
                raise RuntimeError(f"Subsonic endpoint {name} registered twice")
            ENDPOINTS[name] = Endpoint(fn, auth)
        return fn

    return register
