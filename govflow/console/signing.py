"""Preparing a statement for signing in the browser or with `python -m govflow.client`.

The server fills `signed_at` (the signer's claim, never trusted) and serialises the
statement to its canonical bytes, so the browser signs those exact bytes (DSSE PAE over
the payload type and payload) and needs no JSON canonicalisation of its own. The page
also shows the statement as JSON for `python -m govflow.client sign --in statement.json`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from django.utils import timezone

from govflow.core.boundedjson import parse_json
from govflow.core.times import rfc3339
from govflow.trust.intoto import PAYLOAD_TYPE, Statement


def prepare(statement: dict[str, Any]) -> dict[str, Any]:
    statement = json.loads(json.dumps(statement))
    predicate = statement.get("predicate") or {}
    if "signed_at" in predicate and not predicate["signed_at"]:
        predicate["signed_at"] = rfc3339(timezone.now().replace(microsecond=0))
    payload = Statement.from_dict(statement).to_json()
    text = json.dumps(statement, indent=2, sort_keys=True)
    return {
        "statement": statement,
        "statement_json": text,
        "statement_data_url": "data:application/json;base64,"
        + base64.b64encode(text.encode("utf-8")).decode("ascii"),
        "payload_b64": base64.b64encode(payload).decode("ascii"),
        "payload_type": PAYLOAD_TYPE,
    }


def read_envelope(text: str | bytes | None) -> Any:
    """The envelope pasted or uploaded: JSON, either bare or as {"envelope": …}."""
    if not text:
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        value = parse_json(text)
    except ValueError:  # not JSON, too deep, or a control character: no envelope
        return None
    if isinstance(value, dict) and "envelope" in value and "payload" not in value:
        value = value["envelope"]
    return value
