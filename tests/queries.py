"""Which statements a request ran, and which tables they read: for the tests that pin
the request path's reads (a count, not a time)."""

from __future__ import annotations

import re


def statements(captured) -> list[str]:
    """The SQL of a ``django_assert_num_queries`` / ``CaptureQueriesContext`` capture."""
    return [" ".join(q["sql"].split()) for q in captured.captured_queries]


def reads(sql: list[str], table: str) -> int:
    """How many of the statements read ``table`` (name it after FROM or JOIN)."""
    pattern = re.compile(rf'\b(FROM|JOIN)\s+"?{table}"?(\s|$)', re.IGNORECASE)
    return sum(1 for statement in sql if pattern.search(statement))
