"""Times as the log and the API write them: RFC 3339 in UTC with a `Z` suffix.

One format everywhere, so two events that mean the same instant are written the same way
and a verifier comparing times never has to know which code path wrote them. Events
written before this module existed may carry `+00:00`; `parse_rfc3339` reads both.
"""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(moment: datetime) -> str:
    """``2026-01-31T12:00:00.123456Z``: the moment in UTC (an aware datetime is required:
    a naive one has no instant to write)."""
    if moment.tzinfo is None:
        raise ValueError("rfc3339 needs an aware datetime")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def rfc3339_or_none(moment: datetime | None) -> str | None:
    return rfc3339(moment) if moment is not None else None


def parse_rfc3339(raw: str) -> datetime:
    """An RFC 3339 time with an offset (`Z` or `±hh:mm`); ValueError otherwise."""
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{raw!r} has no UTC offset")
    return moment
