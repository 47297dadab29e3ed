"""A small asyncio HTTP/1.1 server speaking the OpenAI chat completions protocol.

Stdlib only, one event loop, keep-alive connections. Latency is an ``asyncio.sleep`` so a slow
simulated model costs no thread and no CPU: thousands of requests in flight are just timers.
Faults (429 with Retry-After, 500) come from their own random generator, not the per-request
seeded one, so a retried request can succeed while answers stay deterministic.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from typing import Any

from evals.simulator.model import SimulatedModel

MAX_BODY = 8 * 1024 * 1024
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            413: "Payload Too Large", 429: "Too Many Requests", 500: "Internal Server Error"}


@dataclass
class ServerOptions:
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    fault_rate: float = 0.0
    fault_429_rate: float = 0.0
    retry_after: float = 1.0
    malformed_rate: float | None = None
    judge_noise: float | None = None
    fault_seed: int = 0


class SimulatorServer:
    def __init__(self, model: SimulatedModel, options: ServerOptions) -> None:
        self.model = model
        self.options = options
        self.faults = random.Random(options.fault_seed)
        self.requests = 0
        self.server: asyncio.AbstractServer | None = None

    async def start(self, host: str, port: int) -> int:
        self.server = await asyncio.start_server(self._connection, host, port, backlog=1024)
        return int(self.server.sockets[0].getsockname()[1])

    async def serve_forever(self) -> None:
        assert self.server is not None
        async with self.server:
            await self.server.serve_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    # One read for the whole head: far cheaper than a readline per header.
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.LimitOverrunError:
                    break
                lines = head.decode("latin-1").split("\r\n")
                parts = lines[0].split()
                if len(parts) < 2:
                    break
                method, path = parts[0].upper(), parts[1].split("?", 1)[0]
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                if length > MAX_BODY:
                    await self._write(writer, 413, {"error": {"message": "body too large"}}, {})
                    break
                body = await reader.readexactly(length) if length else b""
                status, payload, extra = await self._route(method, path, body)
                await self._write(writer, status, payload, extra)
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    async def _write(self, writer: asyncio.StreamWriter, status: int, payload: Any,
                     extra: dict[str, str]) -> None:
        body = json.dumps(payload).encode()
        head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
                "content-type: application/json", f"content-length: {len(body)}",
                "x-govflow-simulator: true"]
        head.extend(f"{k}: {v}" for k, v in extra.items())
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()

    async def _route(self, method: str, path: str, body: bytes) -> tuple[int, Any, dict[str, str]]:
        if path.rstrip("/") in ("/v1/models", "/models"):
            if method != "GET":
                return 405, {"error": {"message": "use GET"}}, {}
            return 200, self._models(), {}
        if path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            return 404, {"error": {"message": f"no route {path}"}}, {}
        if method != "POST":
            return 405, {"error": {"message": "use POST"}}, {}
        self.requests += 1
        opts = self.options
        roll = self.faults.random()
        if roll < opts.fault_429_rate:
            # A rate limiter answers at once; the client should wait Retry-After, not hammer.
            error = {"error": {"message": "SIMULATED rate limit", "type": "rate_limit_error"}}
            return 429, error, {"retry-after": f"{opts.retry_after:g}"}
        delay = opts.latency_ms + (self.faults.uniform(-1, 1) * opts.latency_jitter_ms)
        if delay > 0:
            await asyncio.sleep(delay / 1000.0)
        if roll < opts.fault_429_rate + opts.fault_rate:
            return 500, {"error": {"message": "SIMULATED server error", "type": "server_error"}}, {}
        try:
            request = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return 400, {"error": {"message": "body is not JSON"}}, {}
        if not isinstance(request, dict) or not isinstance(request.get("messages"), list):
            return 400, {"error": {"message": "messages must be a list"}}, {}
        completion = self.model.respond(
            request, malformed_rate=opts.malformed_rate, judge_noise=opts.judge_noise
        )
        return 200, completion, {}

    def _models(self) -> dict[str, Any]:
        names = [self.model.model_name, self.model.judge_name]
        return {"object": "list", "data": [
            {"id": n, "object": "model", "created": 0, "owned_by": "govflow-simulator"}
            for n in names
        ]}
