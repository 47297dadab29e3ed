"""One time format in the log and the API: RFC 3339 UTC with Z; older `+00:00` still read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from govflow.core.errors import ValidationFailed, field_error
from govflow.core.times import parse_rfc3339, rfc3339, rfc3339_or_none


def test_a_moment_is_written_in_utc_with_z():
    paris = timezone(timedelta(hours=1))
    assert rfc3339(datetime(2026, 1, 31, 13, 0, tzinfo=paris)) == "2026-01-31T12:00:00Z"
    assert rfc3339(datetime(2026, 1, 31, 12, 0, 0, 5, tzinfo=UTC)) == "2026-01-31T12:00:00.000005Z"
    assert rfc3339_or_none(None) is None


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError, match="aware"):
        rfc3339(datetime(2026, 1, 31, 12, 0))


@pytest.mark.parametrize("raw", ["2026-01-31T12:00:00Z", "2026-01-31T12:00:00+00:00",
                                 "2026-01-31T13:00:00+01:00"])
def test_both_spellings_are_read_as_the_same_instant(raw):
    assert parse_rfc3339(raw) == datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def test_a_time_without_offset_is_refused():
    with pytest.raises(ValueError, match="offset"):
        parse_rfc3339("2026-01-31T12:00:00")


def test_a_field_error_names_its_field():
    error = field_error("ttl_days", "must be at least 1")
    assert isinstance(error, ValidationFailed)
    assert error.as_dict() == {"error": "invalid", "message": "ttl_days: must be at least 1",
                               "fields": [{"path": "ttl_days", "message": "must be at least 1"}]}
    assert field_error("a", "b", summary="whole").message == "whole"
