"""RFC 9421 signing and checking of server-to-server requests, and the circuit breaker."""

from __future__ import annotations

import secrets
import time

import httpx
import pytest

from musicd.net.federation import Breaker, Identity, SignatureError, instance_id_of, read_keyid, verify_request


def _pair() -> tuple[Identity, Identity]:
    return Identity(secrets.token_bytes(32), "A"), Identity(secrets.token_bytes(32), "B")


def _signed(a: Identity, to: str, method: str = "GET", url: str = "http://b.test/fed/v1/catalog?after=x&limit=5",
            body: bytes = b"", now: float | None = None) -> tuple[str, list[tuple[str, str]]]:
    req = httpx.Client().build_request(method, url, content=body or None)
    a.sign(method, str(req.url), req.headers, body, to, now=now)
    return req.url.raw_path.decode(), list(req.headers.items())


def test_a_signed_request_verifies_and_names_its_sender() -> None:
    a, b = _pair()
    target, headers = _signed(a, b.instance_id)
    got = verify_request("GET", target, headers, b"", a.public_key, b.instance_id)
    assert got.keyid == a.instance_id == instance_id_of(a.public_key)
    assert got.expires - got.created == 300 and len(got.nonce) >= 16
    assert read_keyid(dict(headers)) == a.instance_id
    assert ("content-digest", "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:") in headers  # empty body


@pytest.mark.parametrize(("change", "code"), [
    ("method", "bad_signature"), ("path", "bad_signature"), ("query", "bad_signature"), ("body", "bad_digest"),
    ("key", "bad_signature"), ("recipient", "wrong_recipient"), ("old", "signature_expired"),
    ("future", "signature_expired"), ("unsigned", "unsigned"),
])
def test_anything_changed_after_signing_is_refused(change: str, code: str) -> None:
    a, b = _pair()
    body = b'{"reason": "changed"}'
    now = time.time() - 1000 if change == "old" else time.time() + 1000 if change == "future" else None
    target, headers = _signed(a, b.instance_id, "POST", "http://b.test/fed/v1/notify?x=1", body, now=now)
    method, key, me = "POST", a.public_key, b.instance_id
    if change == "method":
        method = "PUT"
    elif change == "path":
        target = target.replace("notify", "revoke")
    elif change == "query":
        target = target.replace("x=1", "x=2")
    elif change == "body":
        body = b'{"reason": "chAnged"}'
    elif change == "key":
        key = b.public_key
    elif change == "recipient":
        me = a.instance_id
    elif change == "unsigned":
        headers = [(k, v) for k, v in headers if k not in ("signature", "signature-input")]
    with pytest.raises(SignatureError) as err:
        verify_request(method, target, headers, body, key, me)
    assert err.value.code == code and err.value.status == 401


def test_the_breaker_opens_after_failures_and_lets_one_try_after_the_cooldown() -> None:
    br = Breaker(2, 0.05)
    assert br.allow()
    br.failure()
    assert br.allow() and not br.open
    br.failure()
    assert br.open and not br.allow()
    time.sleep(0.06)
    assert br.allow() and not br.allow()  # half-open: one trial only
    br.success()
    assert br.allow() and not br.open
