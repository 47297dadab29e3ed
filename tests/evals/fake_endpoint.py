"""A tiny OpenAI-compatible endpoint on 127.0.0.1 whose replies a test writes by hand.

Independent of the simulator on purpose: the simulator shares the scenario files and scripts the
graders were written against, so only an endpoint that answers in its own words shows whether
the parsers and graders hold up. ``answer(request) -> (status, content_type, body_bytes)``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[dict[str, Any]], tuple[int, str, bytes]]


def completion(message: dict[str, Any], finish_reason: str = "stop") -> bytes:
    return json.dumps({
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": "fake-model",
        "choices": [{"index": 0, "finish_reason": finish_reason, "message": message}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }).encode()


def ok(message: dict[str, Any], finish_reason: str = "stop") -> tuple[int, str, bytes]:
    return 200, "application/json", completion(message, finish_reason)


class FakeEndpoint:
    def __init__(self, answer: Answer) -> None:
        self.requests: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                owner.requests.append(request)
                status, content_type, body = answer(request)
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def last_text(request: dict[str, Any]) -> str:
    return str((request.get("messages") or [{}])[-1].get("content") or "")


def turn_of(request: dict[str, Any], question_marker: str, report_marker: str) -> str:
    """Which fork the request is for, from the newest messages (action, report or question)."""
    messages = request.get("messages") or []
    last = messages[-1] if messages else {}
    if last.get("role") == "user" and question_marker in str(last.get("content") or ""):
        return "question"
    if report_marker in str(last.get("content") or ""):
        return "report"
    return "action"
