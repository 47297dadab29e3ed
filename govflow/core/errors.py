"""The one hierarchy of domain errors.

Services raise these; the API layer maps each class to one HTTP status
(`govflow.core.api.exception_handler`), so a view never decides a status code for a
refused governance action itself.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A governance action was refused. Nothing was written."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, detail: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail or {}

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.detail}


class ValidationFailed(DomainError):
    status_code = 400
    code = "invalid"


def field_error(path: str, message: str, *, summary: str | None = None,
                error: type[DomainError] | None = None) -> DomainError:
    """The one shape of an invalid field: ``{"fields": [{"path", "message"}]}`` under a
    summary (by default ``path: message``), as the API's own validation errors are.
    ``error`` picks another status for the same shape (a field over its size: TooLarge)."""
    cls = error if error is not None else ValidationFailed
    return cls(summary if summary is not None else f"{path}: {message}",
               detail={"fields": [{"path": path, "message": message}]})


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status_code = 403
    code = "forbidden"


class TooLarge(DomainError):
    """An upload or body over its limit: 413 everywhere (`govflow.core.inputgate` refuses
    by declared length; services that count the bytes themselves raise this)."""

    status_code = 413
    code = "too_large"


class Conflict(DomainError):
    """The request is well formed but the current state does not allow it."""

    status_code = 409
    code = "conflict"


class GateNotMet(Conflict):
    code = "gates_not_met"

    def __init__(self, report: dict[str, Any]):
        unmet = [g["kind"] for g in report.get("gates", []) if not g.get("met")]
        super().__init__(
            f"cannot enter {report.get('target')!r}: unmet gates: {', '.join(unmet) or 'none'}",
            detail={"gate_report": report},
        )


class StaleVersion(DomainError):
    status_code = 412
    code = "stale_version"


class PreconditionRequired(DomainError):
    status_code = 428
    code = "precondition_required"
