"""The peer client against a scripted server on loopback: retries with backoff, the circuit breaker per peer,
redirects never followed, bounded bodies, every attempt signed."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from musicd.net.federation import Breaker, Identity, PeerClient, PeerError, verify_request

# A scripted answer: status line and headers, then the body (None: close the connection without answering).
Answer = bytes | None


class Scripted:
    """A tiny HTTP/1.1 server on 127.0.0.1 that answers each request with the next scripted answer (the last
    one repeats) and keeps what it was sent."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = answers
        self.requests: list[tuple[str, str, list[tuple[str, str]]]] = []
        self.times: list[float] = []
        self.port = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = [(k.strip().lower(), v.strip()) for k, v in (x.split(":", 1) for x in lines[1:] if x)]
                length = int(dict(headers).get("content-length", "0"))
                if length:
                    await reader.readexactly(length)
                self.requests.append((method, target, headers))
                self.times.append(time.monotonic())
                answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def scripted(*answers: Answer) -> AsyncIterator[Scripted]:
    s = Scripted(list(answers))
    server = await asyncio.start_server(s._serve, "127.0.0.1", 0)
    s.port = server.sockets[0].getsockname()[1]
    try:
        yield s
    finally:
        server.close()
        await server.wait_closed()


def reply(status: int, body: bytes = b"", extra: str = "") -> bytes:
    return (f"HTTP/1.1 {status} X\r\ncontent-length: {len(body)}\r\n{extra}\r\n").encode() + body


ME = Identity(secrets.token_bytes(32), "me")
PEER = Identity(secrets.token_bytes(32), "peer")


def client(port: int, breaker: Breaker | None = None, retries: int = 2) -> PeerClient:
    return PeerClient(ME, PEER.instance_id, f"http://127.0.0.1:{port}", connect_timeout=1.0, read_timeout=1.0,
                      breaker=breaker or Breaker(10, 60.0), retries=retries, backoff_s=0.05)


def run(coro_fn: Callable[[], object]) -> None:
    asyncio.run(coro_fn())  # type: ignore[arg-type]


def test_a_busy_peer_is_retried_with_growing_backoff_and_every_attempt_is_signed_afresh() -> None:
    async def go() -> None:
        async with scripted(reply(503), reply(503), reply(200, b'{"ok":true}')) as s:
            c = client(s.port)
            r = await c.request("GET", "/fed/v1/catalog", params={"after": "x"})
            await c.close()
        assert r.status == 200 and r.body == b'{"ok":true}'
        assert len(s.requests) == 3 and not c.breaker.failures
        gaps = [b - a for a, b in zip(s.times, s.times[1:], strict=False)]
        assert gaps[0] >= 0.05 and gaps[1] >= 0.2  # 0.05 s, then four times that
        nonces = set()
        for method, target, headers in s.requests:
            signed = verify_request(method, target, headers, b"", ME.public_key, PEER.instance_id)
            assert signed.keyid == ME.instance_id
            nonces.add(signed.nonce)
        assert len(nonces) == 3  # a retry is a new request, not a replay
    run(go)


def test_a_post_is_never_retried() -> None:
    async def go() -> None:
        async with scripted(reply(503), reply(200)) as s:
            c = client(s.port)
            with pytest.raises(PeerError) as err:
                await c.request("POST", "/fed/v1/notify", body=b"{}", idempotent=False)
            await c.close()
        assert err.value.http_status == 503 and len(s.requests) == 1
    run(go)


def test_a_4xx_answer_is_the_callers_to_read_and_counts_as_the_peer_answering() -> None:
    async def go() -> None:
        async with scripted(reply(401, b'{"error":{"code":"revoked"}}')) as s:
            c = client(s.port, Breaker(1, 60.0))
            r = await c.request("GET", "/fed/v1/hello")
            await c.close()
        assert r.status == 401 and len(s.requests) == 1 and not c.breaker.open
    run(go)


def test_redirects_are_refused_not_followed_nor_retried() -> None:
    async def go() -> None:
        async with scripted(reply(302, extra="location: http://127.0.0.1:1/elsewhere\r\n")) as s:
            c = client(s.port)
            with pytest.raises(PeerError) as err:
                await c.request("GET", "/fed/v1/catalog")
            await c.close()
        assert err.value.code == "peer_redirected" and len(s.requests) == 1
    run(go)


@pytest.mark.parametrize("answer", [
    reply(200, b"x" * 2000),  # declared too large
    b"HTTP/1.1 200 X\r\ntransfer-encoding: chunked\r\n\r\n" + b"400\r\n" + b"y" * 1024 + b"\r\n" + b"400\r\n"
    + b"y" * 1024 + b"\r\n0\r\n\r\n",  # undeclared, larger than allowed as it comes
])
def test_an_answer_larger_than_allowed_is_cut_off(answer: bytes) -> None:
    async def go() -> None:
        async with scripted(answer) as s:
            c = client(s.port)
            with pytest.raises(PeerError) as err:
                await c.request("GET", "/fed/v1/catalog", max_bytes=1500)
            await c.close()
        assert err.value.code == "peer_bad_response" and len(s.requests) == 1  # garbage is not retried
    run(go)


def test_the_breaker_opens_on_a_dead_peer_and_then_costs_no_connection_until_the_cooldown() -> None:
    async def go() -> None:
        async with scripted(None) as s:  # accepts, then hangs up without a word
            breaker = Breaker(3, 0.3)
            c = client(s.port, breaker, retries=1)
            with pytest.raises(PeerError):
                await c.request("GET", "/fed/v1/catalog")
            assert len(s.requests) == 2 and not breaker.open
            with pytest.raises(PeerError):
                await c.request("GET", "/fed/v1/catalog")
            assert breaker.open and len(s.requests) == 3  # opened on the third failure: no retry after it
            t0 = time.monotonic()
            with pytest.raises(PeerError) as err:
                await c.request("GET", "/fed/v1/catalog")
            assert "circuit open" in str(err.value) and time.monotonic() - t0 < 0.1 and len(s.requests) == 3
            with pytest.raises(PeerError):
                await c.stream("GET", "/fed/v1/media/x")
            assert len(s.requests) == 3
            s.answers = [reply(200, b"back")]
            await asyncio.sleep(0.35)
            r = await c.request("GET", "/fed/v1/catalog")  # the one trial after the cooldown closes it
            await c.close()
        assert r.body == b"back" and not breaker.open and breaker.failures == 0
    run(go)


def test_a_failed_trial_after_the_cooldown_opens_the_breaker_again() -> None:
    br = Breaker(1, 0.05)
    br.failure()
    time.sleep(0.06)
    assert br.allow()
    br.failure()
    assert br.open and not br.allow()
    time.sleep(0.06)
    assert br.allow()


def test_one_peers_open_breaker_leaves_another_peer_alone() -> None:
    async def go() -> None:
        async with scripted(None) as dead, scripted(reply(200, b"fine")) as alive:
            a, b = client(dead.port, Breaker(1, 60.0), retries=0), client(alive.port, Breaker(1, 60.0))
            with pytest.raises(PeerError):
                await a.request("GET", "/fed/v1/catalog")
            r = await b.request("GET", "/fed/v1/catalog")
            await a.close()
            await b.close()
        assert a.breaker.open and not b.breaker.open and r.body == b"fine"
    run(go)


def test_a_stream_is_bounded_by_its_announced_size() -> None:
    async def go() -> None:
        async with scripted(reply(200, b"z" * 5000)) as s:
            c = client(s.port)
            st = await c.stream("GET", "/fed/v1/media/x", max_bytes=1000)
            got = bytearray()
            with pytest.raises(PeerError) as err:
                async for chunk in st.chunks():
                    got += chunk
            await c.close()
        assert err.value.code == "peer_bad_response" and len(got) <= 1000 and len(s.requests) == 1
    run(go)
