"""The subsonic-response envelope in XML, JSON and JSONP, built from one tree of dicts and lists.

A payload is written in its JSON shape (OpenSubsonic's). XML is derived from it: a scalar is an
attribute, a dict a child element, a list repeated child elements (a list of scalars gives elements
with text), and a "value" key the element's text (genre, lyrics, lyrics lines). In albumInfo and
artistInfo(2) scalars are child elements, as the XSD says. None is left out everywhere.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Response

from musicd import __version__

__all__ = [
    "API_VERSION",
    "ERR_API_KEY",
    "ERR_CLIENT_TOO_OLD",
    "ERR_CONFLICTING_AUTH",
    "ERR_GENERIC",
    "ERR_MISSING",
    "ERR_NOT_FOUND",
    "ERR_NOT_SUPPORTED",
    "ERR_SERVER_TOO_OLD",
    "ERR_TOKEN_UNSUPPORTED",
    "ERR_UNAUTHORIZED",
    "ERR_WRONG_CREDENTIALS",
    "SERVER_TYPE",
    "SubsonicError",
    "render",
    "render_error",
    "to_xml",
]

API_VERSION = "1.16.1"
SERVER_TYPE = "musicd"

ERR_GENERIC = 0
ERR_MISSING = 10
ERR_CLIENT_TOO_OLD = 20
ERR_SERVER_TOO_OLD = 30
ERR_WRONG_CREDENTIALS = 40
ERR_TOKEN_UNSUPPORTED = 41
ERR_NOT_SUPPORTED = 42
ERR_CONFLICTING_AUTH = 43
ERR_API_KEY = 44
ERR_UNAUTHORIZED = 50
ERR_NOT_FOUND = 70

_NS = "http://subsonic.org/restapi"
_ELEMENT_SCALARS = frozenset({"albumInfo", "artistInfo", "artistInfo2"})
_JSON = msgspec.json.Encoder()

# XML 1.0 forbids most control characters even as references; tags sometimes carry them.
_BAD_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ATTR_TABLE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                             "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})
_TEXT_TABLE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_NEEDS_ATTR = re.compile(r'[&<>"\n\r\t\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')
_NEEDS_TEXT = re.compile(r"[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class SubsonicError(Exception):
    """An error answered with the Subsonic error envelope (`code` is one of the ERR_* numbers)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _attr(v: Any) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        if _NEEDS_ATTR.search(v) is None:
            return v
        return _BAD_XML.sub("", v).translate(_ATTR_TABLE)
    return str(v)


def _text(v: Any) -> str:
    if isinstance(v, str):
        if _NEEDS_TEXT.search(v) is None:
            return v
        return _BAD_XML.sub("", v).translate(_TEXT_TABLE)
    return _attr(v)


def _element(out: list[str], name: str, node: dict[str, Any]) -> None:
    out.append("<" + name)
    children: list[tuple[str, Any]] = []
    text = None
    as_elements = name in _ELEMENT_SCALARS
    for k, v in node.items():
        if v is None:
            continue
        if isinstance(v, (dict, list)) or as_elements:
            children.append((k, v))
        elif k == "value":
            text = v
        else:
            out.append(f' {k}="{_attr(v)}"')
    if not children and text is None:
        out.append("/>")
        return
    out.append(">")
    if text is not None:
        out.append(_text(text))
    for k, v in children:
        if isinstance(v, dict):
            _element(out, k, v)
        elif isinstance(v, list):
            for item in v:
                if isinstance(item, dict):
                    _element(out, k, item)
                elif item is not None:
                    out.append(f"<{k}>{_text(item)}</{k}>")
        else:
            out.append(f"<{k}>{_text(v)}</{k}>")
    out.append(f"</{name}>")


def to_xml(root: dict[str, Any]) -> bytes:
    """The XML document of a `{"subsonic-response": {...}}` tree."""
    body = root["subsonic-response"]
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<subsonic-response xmlns="', _NS, '"']
    children = []
    for k, v in body.items():
        if isinstance(v, (dict, list)):
            children.append((k, v))
        elif v is not None:
            out.append(f' {k}="{_attr(v)}"')
    out.append(">")
    for k, v in children:
        for item in v if isinstance(v, list) else (v,):
            _element(out, k, item)
    out.append("</subsonic-response>")
    return "".join(out).encode()


_CALLBACK = re.compile(r"^[A-Za-z_$][\w$.]{0,127}$")


def _wrap(status: str, payload: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "version": API_VERSION, "type": SERVER_TYPE,
                            "serverVersion": __version__, "openSubsonic": True}
    if payload:
        body.update(payload)
    return {"subsonic-response": body}


def render(
    payload: dict[str, Any] | None, fmt: str, callback: str | None = None, status: str = "ok"
) -> Response[bytes]:
    """The response for `payload` in the format the client asked for (`f`: xml, json or jsonp)."""
    root = _wrap(status, payload)
    if fmt == "json":
        return Response(_JSON.encode(root), status_code=200, media_type="application/json")
    if fmt == "jsonp":
        cb = callback if callback and _CALLBACK.match(callback) else "callback"
        return Response(cb.encode() + b"(" + _JSON.encode(root) + b");", status_code=200,
                        media_type="application/javascript")
    return Response(to_xml(root), status_code=200, media_type="text/xml; charset=utf-8")


def render_error(code: int, message: str, fmt: str, callback: str | None = None) -> Response[bytes]:
    """The failed envelope; HTTP 200, as Subsonic clients read the status from the body."""
    return render({"error": {"code": code, "message": message}}, fmt, callback, status="failed")
