"""The HTTP side: an AsyncOpenAI client with guard rails, and one chat call with typed errors.

Guard rails, and why:
- redirects are never followed: a 3xx from a model endpoint is a misconfiguration or an attack,
  and following it would resend the API key to another host;
- response bodies are capped at ``max_response_bytes`` while they stream in, so a hostile or
  broken endpoint cannot make a worker buffer gigabytes;
- the openai SDK's own retries are off (``max_retries=0``): retry policy lives in one layer only,
  here when ``EndpointConfig.max_retries > 0`` (CLI) or in the Celery task when it is 0.
"""

from __future__ import annotations

import asyncio
import json
import random
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# httpx2 is the HTTP library this openai SDK is built on, with httpx's API. We use it rather
# than classic httpx because classic httpcore's pool rescans every connection for every idle one
# on each request (quadratic); at concurrency 64 that alone halved throughput in bench/.
import httpx2
import openai

from evals.episode import Reply, ToolCall
from evals.errors import (
    EndpointError,
    MalformedResponseError,
    RedirectRefusedError,
    ResponseTooLargeError,
    RetryableEndpointError,
    TruncatedReplyError,
)

DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024
# Retry-After values beyond this are treated as "give up now", not honoured for minutes.
MAX_HONOURED_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class Sampling:
    """The sampling settings of the agent's requests: every one set here is sent, and what a
    sample records is this object's ``recorded()``, so the record cannot say one thing while
    the request carried another. None: not sent (the provider's default applies)."""

    temperature: float = 1.0
    top_p: float | None = None
    max_tokens: int | None = None

    def sent(self) -> dict[str, Any]:
        return {k: v for k, v in self.recorded().items() if v is not None}

    def recorded(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "top_p": self.top_p,
                "max_tokens": self.max_tokens}


@dataclass(frozen=True)
class EndpointConfig:
    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 60.0
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_retries: int = 0
    # Backoff for the library's own retries (only used when max_retries > 0).
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_connections: int = 256


class _CappedStream(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, limit: int) -> None:
        self._inner = inner
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:  # type: ignore[override]
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                # Close first so the pooled connection is dropped, not reused mid-body.
                await self._inner.aclose()
                raise ResponseTooLargeError(f"response body exceeds {self._limit} bytes")
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class CappedTransport(httpx2.AsyncBaseTransport):
    """Rejects bodies over ``limit`` bytes: early from Content-Length, else while streaming."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, limit: int) -> None:
        self._inner = inner
        self._limit = limit

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        declared = response.headers.get("content-length")
        encoding = response.headers.get("content-encoding", "identity").lower()
        too_big = declared is not None and declared.isdigit() and int(declared) > self._limit
        # We ask for identity encoding; a compressed body's decoded size cannot be bounded by
        # counting wire bytes, so one is refused rather than trusted.
        if too_big or encoding not in {"identity", ""}:
            await response.aclose()
            reason = "declared too large" if too_big else f"unexpected encoding {encoding}"
            raise ResponseTooLargeError(f"response refused ({reason}; limit {self._limit} bytes)")
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        response.stream = _CappedStream(response.stream, self._limit)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


@lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs ~20 ms; the runner makes several clients, so load it once.
    return httpx2.create_ssl_context()


def make_client(config: EndpointConfig) -> openai.AsyncOpenAI:
    limits = httpx2.Limits(
        max_connections=config.max_connections,
        max_keepalive_connections=config.max_connections,
    )
    transport = CappedTransport(
        httpx2.AsyncHTTPTransport(limits=limits, verify=_ssl_context()), config.max_response_bytes
    )
    http_client = httpx2.AsyncClient(
        follow_redirects=False,
        transport=transport,
        timeout=httpx2.Timeout(config.timeout),
        headers={"Accept-Encoding": "identity"},
    )
    return openai.AsyncOpenAI(
        base_url=config.base_url,
        # Local endpoints (vLLM, the simulator) need no key, but the SDK insists on one.
        api_key=config.api_key or "unused",
        http_client=http_client,
        max_retries=0,
        timeout=config.timeout,
    )


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            continue  # an HTTP-date; rare for model APIs, treated as "no hint"
    return None


def classify(exc: BaseException) -> EndpointError | None:
    """Map an SDK/transport exception to our typed errors (None: not an endpoint problem)."""
    if isinstance(exc, EndpointError):
        return exc
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if 300 <= status < 400:
            location = exc.response.headers.get("location", "?")
            return RedirectRefusedError(
                f"endpoint redirected ({status}) to {location}; redirects are not followed",
                status_code=status,
            )
        if status in (408, 409, 425, 429) or status >= 500:
            return RetryableEndpointError(
                f"endpoint answered {status}", status_code=status,
                retry_after=_retry_after(exc.response),
            )
        return EndpointError(f"endpoint answered {status}: {exc.message}", status_code=status)
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ResponseTooLargeError):
            return cause
        return RetryableEndpointError(f"endpoint unreachable: {type(exc).__name__}")
    if isinstance(exc, httpx2.TransportError):
        return RetryableEndpointError(f"transport error: {exc!r}")
    return None


def backoff_delay(config: EndpointConfig, attempt: int, retry_after: float | None) -> float:
    """The server's Retry-After when it sent one; otherwise exponential backoff with jitter.

    Jitter spreads the retries of many concurrent samples so they do not return as one burst.
    """
    if retry_after is not None:
        return min(retry_after, MAX_HONOURED_RETRY_AFTER)
    return float(min(config.backoff_max, config.backoff_base * (2 ** attempt))
                 * random.uniform(0.5, 1.0))


def _snippet(raw: bytes) -> str:
    text = raw[:120].decode("utf-8", "replace")
    return " ".join(text.split()) + ("..." if len(raw) > 120 else "")


def _error_message(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error.get("type") or error)[:300]
    return str(error)[:300]


def reply_from_body(raw: bytes, content_type: str = "application/json") -> Reply:
    """Read a chat completion body into a Reply, or raise MalformedResponseError saying why.

    Read by hand rather than through the SDK's models: the SDK turns an HTML page or an
    ``{"error": ...}`` object sent with status 200 into an object whose fields are missing, which
    later code trips over (a crash) or reads as an empty reply (a silently invalid sample).
    """
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        kind = "an HTML page" if raw.lstrip()[:1] == b"<" else "a body that is not JSON"
        truncated = raw.lstrip()[:1] in (b"{", b"[")
        reason = "a truncated JSON body" if truncated else kind
        raise MalformedResponseError(
            f"endpoint answered 200 with {reason} (content-type {content_type or '?'}): "
            f"{_snippet(raw)!r}"
        ) from None
    if not isinstance(body, dict):
        raise MalformedResponseError(f"endpoint answered 200 with JSON that is not an object: "
                                     f"{_snippet(raw)!r}")
    if body.get("error") is not None and not body.get("choices"):
        raise MalformedResponseError(
            f"endpoint answered 200 with an error object: {_error_message(body['error'])}"
        )
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise MalformedResponseError(f"endpoint answered 200 without choices: {_snippet(raw)!r}")
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else None
    usage_dict = {
        key: int(usage.get(key) or 0)
        for key in ("prompt_tokens", "completion_tokens", "total_tokens")
    } if usage else {}
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        raise MalformedResponseError(f"endpoint answered 200 with a choice without a message: "
                                     f"{_snippet(raw)!r}")
    calls = []
    for i, call in enumerate(message.get("tool_calls") or []):
        fn = call.get("function") if isinstance(call, dict) else None
        if isinstance(fn, dict) and fn.get("name"):
            arguments = fn.get("arguments")
            if arguments is not None and not isinstance(arguments, str):
                arguments = json.dumps(arguments)  # some servers send an object, not a string
            calls.append(ToolCall(id=str(call.get("id") or f"call_{i}"), name=str(fn["name"]),
                                  arguments=arguments))
    legacy = message.get("function_call")
    function_call = None
    if isinstance(legacy, dict) and legacy.get("name"):
        arguments = legacy.get("arguments")
        if arguments is not None and not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        function_call = ToolCall(id="function_call", name=str(legacy["name"]), arguments=arguments)
    content = message.get("content")
    if isinstance(content, list):  # content parts: keep the text ones
        content = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    refusal = message.get("refusal")
    finish_reason = choice.get("finish_reason")
    reply = Reply(
        content=content if isinstance(content, str) or content is None else str(content),
        tool_calls=calls,
        model=body.get("model"),
        system_fingerprint=body.get("system_fingerprint"),
        usage=usage_dict,
        finish_reason=finish_reason,
        function_call=function_call,
        refusal=refusal if isinstance(refusal, str) else None,
    )
    if finish_reason == "length":
        # Cut off by the server's token limit: whatever call it was writing is incomplete.
        raise TruncatedReplyError(
            "endpoint cut the reply off (finish_reason=length): "
            f"{_snippet((content or '').encode())!r}", reply=reply,
        )
    return reply


async def chat(
    client: openai.AsyncOpenAI,
    config: EndpointConfig,
    *,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    seed: int,
    sampling: Sampling,
) -> Reply:
    """One chat completion. Retries only if ``config.max_retries > 0``; raises typed errors."""
    kwargs: dict[str, Any] = {
        "model": config.model,
        "messages": messages,
        "seed": seed,
        **sampling.sent(),
    }
    if tools:
        kwargs["tools"] = tools
    attempt = 0
    while True:
        try:
            # Same client, same endpoint as chat.completions.create, minus the SDK's parameter
            # transform: it walks every message through TypedDict introspection (~3 ms a call,
            # the largest CPU cost of a run) to rewrite fields our wire-format dicts don't use.
            response = await client.post(
                "/chat/completions", cast_to=httpx2.Response, body=kwargs
            )
            raw = await response.aread()
            return reply_from_body(raw, response.headers.get("content-type", ""))
        except (openai.OpenAIError, httpx2.HTTPError, EndpointError) as exc:
            error = classify(exc)
            if error is None:
                raise
            # A malformed 200 is retried here like a 5xx, but when retries run out it is this
            # sample's error, not the run's: the endpoint is up, this answer was broken.
            retryable = isinstance(error, (RetryableEndpointError, MalformedResponseError))
            wait = getattr(error, "retry_after", None)
            too_long = retryable and (wait or 0.0) > MAX_HONOURED_RETRY_AFTER
            if not retryable or attempt >= config.max_retries or too_long:
                raise error from exc
            await asyncio.sleep(backoff_delay(config, attempt, wait))
            attempt += 1
