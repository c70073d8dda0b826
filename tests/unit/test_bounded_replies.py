"""API replies are read up to 1 MB and within one deadline for the whole reply; past either bound the attempt
failed (a poll is asked again, a submit's outcome is unknown) and memory does not grow with the reply."""

from __future__ import annotations

import socket
import threading
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import anyio
import httpx2
import pytest

from videogen_mcp import http
from videogen_mcp.errors import ProviderUnavailable, SubmitOutcomeUnknown
from videogen_mcp.http import ProviderHttp

pytestmark = pytest.mark.anyio

URL = "http://h/prefix/api/v3/predictions/p1/result"
CHUNK = 64 * 1024
HUGE = 50 * 1024 * 1024
OK = b'{"status": "ok"}'
#: The contract's bound on an API reply.
MAX_REPLY_BYTES = 1024 * 1024


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """No backoff between attempts, and a short reply deadline, so a trickle ends quickly."""
    monkeypatch.setattr(http, "backoff", lambda attempt: 0.0)
    monkeypatch.setattr(http, "REPLY_DEADLINE", 0.3)


class Replies:
    """A MockTransport handler: each attempt gets the next body (bytes, or an async byte stream), counting
    the bytes the client pulled from the streams."""

    def __init__(self, *bodies: str, status: int = 200) -> None:
        self.bodies = list(bodies)
        self.status = status
        self.calls = 0
        self.pulled: list[int] = []  # bytes pulled, per streamed attempt

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        kind = self.bodies[min(self.calls, len(self.bodies) - 1)]
        self.calls += 1
        if kind == "ok":
            return httpx2.Response(200, content=OK)
        self.pulled.append(0)
        stream = self.huge(len(self.pulled) - 1) if kind == "huge" else self.trickle(len(self.pulled) - 1)
        return httpx2.Response(self.status, content=stream)

    async def huge(self, index: int) -> AsyncIterator[bytes]:
        """50 MB of valid JSON: read whole, it would be a fine reply."""
        head, tail = b'{"status": "ok", "pad": "', b'"}'
        yield head
        for _ in range((HUGE - len(head) - len(tail)) // CHUNK):
            self.pulled[index] += CHUNK
            yield b"x" * CHUNK
        yield tail

    async def trickle(self, index: int) -> AsyncIterator[bytes]:
        """A small JSON reply, one byte every 10 ms (each byte well inside any per-read timeout): about 20 s."""
        body = b'{"status": "ok", "pad": "' + b" " * 2000 + b'"}'
        for byte in body:
            await anyio.sleep(0.01)
            self.pulled[index] += 1
            yield bytes([byte])


async def send(replies: Replies, *, idempotent: bool) -> object:
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(replies)) as client:
        request = httpx2.Request("GET" if idempotent else "POST", URL, json={"a": 1})
        with anyio.fail_after(10):  # an unbounded read would take about 20 s: fail rather than wait
            return await ProviderHttp(client, "wavespeed", lambda body: None).send(request, idempotent=idempotent)


async def test_a_huge_poll_reply_is_read_no_further_than_the_cap_and_asked_again():
    replies = Replies("huge", "ok")
    assert await send(replies, idempotent=True) == {"status": "ok"}
    assert replies.calls == 2
    assert replies.pulled[0] <= MAX_REPLY_BYTES + CHUNK  # 50 MB offered, about 1 MB read


async def test_a_poll_answered_only_with_huge_replies_fails_as_unavailable():
    replies = Replies("huge")
    with pytest.raises(ProviderUnavailable, match=r"wavespeed sent a reply over 1 MB; try again later"):
        await send(replies, idempotent=True)
    assert replies.calls == 3
    assert max(replies.pulled) <= MAX_REPLY_BYTES + CHUNK


async def test_a_trickled_poll_reply_is_cut_at_the_deadline_for_the_whole_reply_and_asked_again():
    replies = Replies("trickle", "ok")
    assert await send(replies, idempotent=True) == {"status": "ok"}
    assert replies.calls == 2
    assert replies.pulled[0] < 2000  # the 2 KB reply was not read to its end


async def test_a_poll_answered_only_with_trickles_fails_as_unavailable():
    replies = Replies("trickle")
    with pytest.raises(ProviderUnavailable, match=r"wavespeed took over 0.3 s to send its reply; try again later"):
        await send(replies, idempotent=True)
    assert replies.calls == 3


@pytest.mark.parametrize(("kind", "said"), [("huge", "sent a reply over 1 MB to the submit request"),
                                            ("trickle", "took over 0.3 s to send its reply to the submit request")])
async def test_a_submit_reply_past_a_bound_is_an_unknown_outcome_and_never_sent_again(kind, said):
    replies = Replies(kind, "ok")
    with pytest.raises(SubmitOutcomeUnknown, match=f"^wavespeed {said}; the job may still have been created"):
        await send(replies, idempotent=False)
    assert replies.calls == 1


async def test_a_reply_declaring_a_length_over_the_cap_is_not_read_at_all():
    pulled: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        pulled.append(CHUNK)
        yield b"x" * CHUNK

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-length": str(HUGE)}, content=body())

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as client:
        with pytest.raises(ProviderUnavailable, match="over 1 MB"):
            await ProviderHttp(client, "aimlapi", lambda body: None).send(httpx2.Request("GET", URL), idempotent=True)
    assert pulled == []


async def test_an_error_reply_is_bounded_too():
    replies = Replies("huge", status=503)
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(replies)) as client:
        with pytest.raises(ProviderUnavailable, match="over 1 MB"):
            await ProviderHttp(client, "myrouter", lambda body: None).send(httpx2.Request("GET", URL), idempotent=True)
    assert max(replies.pulled) <= MAX_REPLY_BYTES + CHUNK


# -- over a real socket ----------------------------------------------------------------------------


@contextmanager
def loopback(reply: str) -> Iterator[tuple[str, list[int]]]:
    """A raw HTTP server on loopback answering every request with a chunked body: `huge` (50 MB as fast as
    the socket takes it) or `trickle` (one byte every 10 ms until the client hangs up). Yields its URL and
    the bytes of body it managed to send, per request."""
    listener = socket.create_server(("127.0.0.1", 0))
    sent: list[int] = []

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            sent.append(0)
            piece = b"x" * CHUNK if reply == "huge" else b" "
            frame = b"%x\r\n%s\r\n" % (len(piece), piece)
            try:
                head = b'{"status": "ok", "pad": "'
                conn.sendall(b"%x\r\n%s\r\n" % (len(head), head))
                while sent[-1] < HUGE:
                    if reply == "trickle":
                        threading.Event().wait(0.01)
                    conn.sendall(frame)
                    sent[-1] += len(piece)
                conn.sendall(b'2\r\n"}\r\n0\r\n\r\n')  # read to here, the reply is valid JSON
            except OSError:
                return  # the client hung up: what the test wants

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/v3/predictions/p1/result", sent
    finally:
        listener.close()


@pytest.mark.parametrize("reply", ["huge", "trickle"])
async def test_over_a_socket_a_poll_past_a_bound_fails_and_memory_stays_flat(reply):
    with loopback(reply) as (url, sent):
        async with http.new_client() as client:
            provider = ProviderHttp(client, "wavespeed", lambda body: None, attempts=1)
            tracemalloc.start()
            try:
                with anyio.fail_after(20), pytest.raises(ProviderUnavailable):
                    await provider.send(httpx2.Request("GET", url), idempotent=True)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
    assert sent and sent[0] < HUGE  # the server never got to send all of it
    print(f"{reply}: the server sent {sent[0] / 1e6:.1f} MB; peak traced memory {peak / 1e6:.1f} MB")
    assert peak < 8 * MAX_REPLY_BYTES, f"peak {peak / 1e6:.1f} MB while reading one reply"


@contextmanager
def slow_reader(pause: float) -> Iterator[str]:
    """A loopback server that starts reading a request only after `pause` seconds, then answers at once."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            threading.Event().wait(pause)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            while len(body) < length:
                body += conn.recv(1 << 20)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                         % (len(OK), OK))

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/v3/media/upload/binary"
    finally:
        listener.close()


async def test_the_deadline_counts_from_the_request_sent_so_a_slow_upload_is_not_cut():
    """A 32 MB upload the server takes in only after a pause longer than the (shortened) reply deadline:
    counted from the start, the deadline would cut it; counted from the last byte sent, the reply is in time."""
    with slow_reader(pause=1.0) as url:
        async with http.new_client() as client:
            provider = ProviderHttp(client, "wavespeed", lambda body: None, attempts=1)
            request = httpx2.Request("POST", url, content=b"i" * (32 * 1024 * 1024))
            with anyio.fail_after(20):
                assert await provider.send(request, idempotent=True) == {"status": "ok"}
