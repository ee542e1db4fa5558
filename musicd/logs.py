"""Structured log lines: `log.info("scan.done", added=3)` becomes one JSON object or one key=value line."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

__all__ = ["StructLogger", "configure_logging", "get_logger"]


class _Formatter(logging.Formatter):
    def __init__(self, fmt: str) -> None:
        super().__init__()
        self.json = fmt == "json"

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"
        if self.json:
            out = {"ts": ts, "level": record.levelname.lower(), "logger": record.name, "event": record.getMessage()}
            out.update(fields)
            if record.exc_info:
                out["exc"] = self.formatException(record.exc_info)
            return json.dumps(out, ensure_ascii=False, default=str)
        parts = [ts, record.levelname.lower().ljust(7), record.getMessage()]
        parts += [f"{k}={json.dumps(v, ensure_ascii=False, default=str)}" for k, v in fields.items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class StructLogger:
    """A thin wrapper that passes keyword fields through to the formatter."""

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger

    def _emit(self, level: int, event: str, exc_info: bool, fields: dict[str, Any]) -> None:
        if self._log.isEnabledFor(level):
            self._log.log(level, event, extra={"fields": fields}, exc_info=exc_info)

    def debug(self, event: str, **fields: Any) -> None:
        self._emit(logging.DEBUG, event, False, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._emit(logging.INFO, event, False, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._emit(logging.WARNING, event, False, fields)

    def error(self, event: str, *, exc_info: bool = False, **fields: Any) -> None:
        self._emit(logging.ERROR, event, exc_info, fields)


def get_logger(name: str) -> StructLogger:
    return StructLogger(logging.getLogger(name))


def configure_logging(level: str = "info", fmt: str = "text") -> None:
    """Send musicd's structured lines to stderr at `level`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(fmt))
    root = logging.getLogger("musicd")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
