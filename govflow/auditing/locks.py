"""Row locks for auditing services. Lock before reading state you will act on.

Lock order, to keep concurrent services from deadlocking: the release first (only the
services that may send it back take it), then assignments in id order, then a finding.
"""

from __future__ import annotations

from govflow.auditing.models import Assignment, Certificate, Finding
from govflow.core.errors import NotFound


def _lock(model, pk: int, what: str):
    row = model.objects.select_for_update(of=("self",)).filter(pk=pk).first()
    if row is None:
        raise NotFound(f"{what} {pk} does not exist")
    return row


def lock_certificate(pk: int) -> Certificate:
    return _lock(Certificate, pk, "certificate")


def lock_assignment(pk: int) -> Assignment:
    return _lock(Assignment, pk, "assignment")


def lock_finding(pk: int) -> Finding:
    # Findings are append-only; a row lock (SELECT … FOR UPDATE) is not an UPDATE, so the
    # table's triggers allow it, and it serialises the statements appended to one finding.
    return _lock(Finding, pk, "finding")
