"""How the demo's people sign: with their demo key, as the client would, now."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from govflow.core.times import rfc3339
from govflow.trust.intoto import Statement, sign_statement


def signed(statement: dict[str, Any], private: Any) -> dict[str, Any]:
    statement["predicate"]["signed_at"] = rfc3339(timezone.now())
    return sign_statement(Statement.from_dict(statement), private)
