"""Verify a bundle: the log first, then the decisions recorded in it."""

from __future__ import annotations

from typing import Any

from govflow.verify import completeness, decisions
from govflow.verify.log_checks import (
    check_checkpoints,
    check_events,
    check_trusted,
    open_checkpoint,
)
from govflow.verify.report import Report, VerificationFailed

SUPPORTED_FORMATS = {"govflow-bundle/v1"}


def verify_bundle(
    bundle: Any, *, log_key: str | None = None, trusted_checkpoints: list[str] = ()
) -> Report:
    report = Report()
    try:
        if not isinstance(bundle, dict) or bundle.get("format") not in SUPPORTED_FORMATS:
            found = bundle.get("format") if isinstance(bundle, dict) else None
            raise VerificationFailed(f"not a govflow bundle (format {found!r})")
        for key in ("log", "scope", "checkpoints", "events", "policies"):
            if key not in bundle:
                raise VerificationFailed(f"the bundle has no {key!r} section")
        if log_key is None:
            log_key = bundle["log"]["verifier_key"]
            report.warn(
                "log key taken from the bundle itself; pin the key you trust with --log-key"
            )
        checkpoints = check_checkpoints(bundle, log_key, report)
        origin = bundle["log"]["origin"]
        trusted_sizes = [open_checkpoint(t, log_key, origin)[0] for t in trusted_checkpoints]
        events, roots_at = check_events(bundle, checkpoints, report, trusted_sizes)
        for text in trusted_checkpoints:
            check_trusted(text, log_key, bundle["log"]["origin"], checkpoints, report, roots_at)
        completeness.check(bundle, checkpoints, report)
        decisions.check(bundle, events, report)
    except VerificationFailed as exc:
        report.failure = str(exc)
    except (KeyError, TypeError, ValueError) as exc:
        report.failure = f"the bundle is malformed: {type(exc).__name__}: {exc}"
    return report
