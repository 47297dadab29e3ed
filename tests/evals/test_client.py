"""HTTP guard rails: no redirects, capped bodies, typed retryable errors, bounded retries."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest

from evals.client import EndpointConfig, Sampling, chat, make_client
from evals.errors import RedirectRefusedError, ResponseTooLargeError, RetryableEndpointError

COMPLETION = {
    "id": "x", "object": "chat.completion", "created": 0, "model": "stub",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "hello"}}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}

Responder = Callable[[int], bytes]


def http(status: int, body: bytes, headers: dict[str, str] | None = None,
         chunked: bool = False) -> bytes:
    lines = [f"HTTP/1.1 {status} X", "content-type: application/json"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if chunked:
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536])
                          for i in range(0, len(body), 65536))
        return ("\r\n".join(lines + ["transfer-encoding: chunked"]) + "\r\n\r\n").encode() + \
            chunks + b"0\r\n\r\n"
    return ("\r\n".join(lines + [f"content-length: {len(body)}"]) + "\r\n\r\n").encode() + body


async def serve(respond: Responder) -> tuple[asyncio.AbstractServer, str, list[int]]:
    """A tiny HTTP/1.1 server; ``respond(n)`` gives the raw reply to the n-th request."""
    seen: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                if not await reader.readline():
                    break
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                seen.append(len(seen))
                writer.write(respond(len(seen) - 1))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/v1", seen


async def call(url: str, **config: object) -> object:
    cfg = EndpointConfig(base_url=url, model="stub", **config)  # type: ignore[arg-type]
    client = make_client(cfg)
    try:
        return await chat(client, cfg, messages=[{"role": "user", "content": "hi"}], tools=None,
                          seed=1, sampling=Sampling(temperature=0.0))
    finally:
        await client.close()


def run(coro_factory: Callable[[], Awaitable[object]]) -> object:
    return asyncio.run(coro_factory())


def test_make_client_never_retries_and_never_follows_redirects():
    client = make_client(EndpointConfig(base_url="http://127.0.0.1:9/v1", model="m"))
    assert client.max_retries == 0
    assert client._client.follow_redirects is False
    asyncio.run(client.close())


def test_redirect_is_refused_and_not_followed():
    async def scenario() -> None:
        target, target_url, target_seen = await serve(
            lambda n: http(200, json.dumps(COMPLETION).encode()))
        origin, origin_url, _ = await serve(lambda n: http(
            307, b"{}", {"location": f"{target_url}/chat/completions"}))
        try:
            with pytest.raises(RedirectRefusedError) as err:
                await call(origin_url, max_retries=3)
            assert err.value.status_code == 307
            assert target_seen == []  # the API key never reached the other server
        finally:
            origin.close()
            target.close()

    run(scenario)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_response_is_rejected(chunked):
    big = json.dumps({**COMPLETION, "padding": "x" * 300_000}).encode()

    async def scenario() -> None:
        server, url, _ = await serve(lambda n: http(200, big, chunked=chunked))
        try:
            with pytest.raises(ResponseTooLargeError):
                await call(url, max_response_bytes=100_000)
            # A body under the cap is fine with the same client settings.
            reply = await call(url, max_response_bytes=1_000_000)
            assert reply.content == "hello"  # type: ignore[attr-defined]
        finally:
            server.close()

    run(scenario)


def test_429_raises_retryable_error_with_retry_after_when_retries_are_off():
    async def scenario() -> None:
        server, url, seen = await serve(lambda n: http(429, b'{"error": {}}', {"retry-after": "7"}))
        try:
            with pytest.raises(RetryableEndpointError) as err:
                await call(url, max_retries=0)
            assert err.value.retry_after == 7.0
            assert err.value.status_code == 429
            assert len(seen) == 1  # no hidden retry inside the library or the SDK
        finally:
            server.close()

    run(scenario)


def test_library_retries_honour_retry_after_then_succeed():
    replies = [http(429, b"{}", {"retry-after-ms": "30"}), http(503, b"{}"),
               http(200, json.dumps(COMPLETION).encode())]

    async def scenario() -> None:
        server, url, seen = await serve(lambda n: replies[min(n, 2)])
        loop = asyncio.get_running_loop()
        try:
            started = loop.time()
            reply = await call(url, max_retries=4, backoff_base=0.001)
            assert reply.content == "hello"  # type: ignore[attr-defined]
            assert len(seen) == 3
            assert loop.time() - started >= 0.03
        finally:
            server.close()

    run(scenario)


def test_retries_are_bounded():
    async def scenario() -> None:
        server, url, seen = await serve(lambda n: http(500, b"{}"))
        try:
            with pytest.raises(RetryableEndpointError):
                await call(url, max_retries=2, backoff_base=0.001)
            assert len(seen) == 3
        finally:
            server.close()

    run(scenario)
