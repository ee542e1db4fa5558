"""musicd: a self-hostable personal music server."""

__all__ = ["__version__"]

__version__ = "0.1.0"
