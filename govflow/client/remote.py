"""A small JSON-over-HTTP client for the govflow API (urllib only).

The transport is a parameter so tests can drive the same client code through Django's
test client; the default sends real requests with urllib.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

USER_AGENT = "govflow-client/0.1"
DEFAULT_URL = "http://127.0.0.1:8000"

# (method, url, headers, body) -> (status, body)
Transport = Callable[[str, str, Mapping[str, str], bytes | None], tuple[int, bytes]]


class ClientError(Exception):
    """Something went wrong; the message says what, for a person to read."""


class ApiError(ClientError):
    """The server refused the request; carries its status and error body."""

    def __init__(self, status: int, body: Any):
        self.status = status
        self.body = body
        super().__init__(self.describe())

    def describe(self) -> str:
        if not isinstance(self.body, dict):
            return f"HTTP {self.status}: {str(self.body)[:500]}"
        code = self.body.get("error", "error")
        lines = [f"HTTP {self.status} {code}: {self.body.get('message', '')}"]
        for problem in self.body.get("fields") or []:
            lines.append(f"  - {problem.get('path')}: {problem.get('message')}")
        if self.body.get("rule"):
            lines.append(f"  (rule: {self.body['rule']})")
        for gate in (self.body.get("gate_report") or {}).get("gates", []):
            mark = "ok " if gate.get("met") else "NOT"
            lines.append(f"  [{mark}] {gate.get('id')}: {gate.get('reason')}")
        return "\n".join(lines)


def urllib_transport(timeout: float) -> Transport:
    def send(method: str, url: str, headers: Mapping[str, str], body: bytes | None):
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ClientError(f"cannot reach {url}: {reason}") from exc

    return send


class Api:
    def __init__(self, base_url: str, token: str | None, *, transport: Transport | None = None,
                 timeout: float = 30.0, receipts_dir: Path | None = None):
        if not token:
            raise ClientError("no API token: pass --token or set GOVFLOW_TOKEN")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.transport = transport or urllib_transport(timeout)
        # Where the receipts of recorded acts are kept (govflow.client.receipts); None: not.
        self.receipts_dir = receipts_dir

    def _call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
              body: Any = None) -> Any:
        url = f"{self.base_url}/api/{path.lstrip('/')}"
        if params:
            query = {k: v for k, v in params.items() if v is not None}
            url += "?" + urllib.parse.urlencode(query)
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        data = None
        if method == "POST":
            data = json.dumps(body if body is not None else {}).encode("utf-8")
            headers["Content-Type"] = "application/json"
            # The server answers a retry with this key with the first response instead
            # of acting twice (IETF httpapi idempotency-key draft).
            headers["Idempotency-Key"] = str(uuid.uuid4())
        status, raw = self.transport(method, url, headers, data)
        try:
            decoded = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            decoded = raw.decode("utf-8", "replace")
        if status >= 400:
            raise ApiError(status, decoded)
        if self.receipts_dir is not None and isinstance(decoded, dict) and "receipt" in decoded:
            from govflow.client.receipts import keep

            for receipt in decoded.get("receipts") or [decoded["receipt"]]:
                keep(receipt, self.receipts_dir)
        return decoded

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self._call("POST", path, body=body)

    def pages(self, path: str, **params: Any) -> list[Any]:
        """Every row of a paginated list endpoint, page after page."""
        rows: list[Any] = []
        page = 1
        while True:
            body = self.get(path, page=page, **params)
            rows += body["results"]
            if not body.get("next"):
                return rows
            page += 1
