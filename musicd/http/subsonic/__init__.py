"""The Subsonic 1.16.1 + OpenSubsonic API under /rest, and the public pages of its shares."""

from musicd.http.subsonic.router import subsonic_route
from musicd.http.subsonic.share_page import SharePageController

__all__ = ["SharePageController", "subsonic_route"]
