"""The server side of federation: `/.well-known/musicd` and the signed `/fed/v1` API peers call."""

from musicd.http.fed.routes import FedController, WellKnownController

__all__ = ["FedController", "WellKnownController"]
