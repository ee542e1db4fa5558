"""The Subsonic 1.16.1 + OpenSubsonic API under /rest (its shares' public pages are musicd.http.share's)."""

from musicd.http.subsonic.router import subsonic_route

__all__ = ["subsonic_route"]
