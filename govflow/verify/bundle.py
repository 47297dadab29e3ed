"""Verify a bundle: the log first, then the decisions recorded in it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from govflow.verify import completeness, decisions
from govflow.verify.key_certificates import parse_regulator_keys
from govflow.verify.log_checks import (
    check_checkpoints,
    check_events,
    check_trusted,
    open_checkpoint,
    report_quarantines,
)
from govflow.verify.report import Report, VerificationFailed
from govflow.verify.witnesses import check_every_quorum, choose_log_key, parse_witnesses

SUPPORTED_FORMATS = {"govflow-bundle/v1"}


def verify_bundle(
    bundle: Any, *, log_key: str | None = None, trusted_checkpoints: Sequence[str] = (),
    trust_bundle_key: bool = False, witnesses: Sequence[str] = (), quorum: int | None = None,
    regulator_keys: Sequence[str] = (), trust_log_regulator_keys: bool = False,
) -> Report:
    """Verify ``bundle`` against pinned trust roots: the log key (or, explicitly,
    ``trust_bundle_key``) and ``witnesses`` (cosignature vkeys) of which ``quorum`` (default:
    all of them) must have cosigned the latest checkpoint (every earlier one is checked
    too: witnesses.check_every_quorum); ``regulator_keys`` (public keys), under one of
    which a key certificate must verify to count (or, explicitly,
    ``trust_log_regulator_keys``). Raises UsageError when the witness keys, quorum or
    regulator keys are unusable."""
    pinned, needed = parse_witnesses(list(witnesses), quorum)
    regulators = parse_regulator_keys(list(regulator_keys),
                                      trust_log=trust_log_regulator_keys)
    report = Report()
    try:
        if not isinstance(bundle, dict) or bundle.get("format") not in SUPPORTED_FORMATS:
            found = bundle.get("format") if isinstance(bundle, dict) else None
            raise VerificationFailed(f"not a govflow bundle (format {found!r})")
        for key in ("log", "scope", "checkpoints", "events", "policies"):
            if key not in bundle:
                raise VerificationFailed(f"the bundle has no {key!r} section")
        log_key = choose_log_key(bundle, log_key, trust_bundle_key, report)
        checkpoints = check_checkpoints(bundle, log_key, report)
        check_every_quorum(bundle["checkpoints"], pinned, needed, report)
        origin = bundle["log"]["origin"]
        trusted_sizes = [open_checkpoint(t, log_key, origin)[0] for t in trusted_checkpoints]
        events, roots_at = check_events(bundle, checkpoints, report, trusted_sizes)
        for text in trusted_checkpoints:
            check_trusted(text, log_key, bundle["log"]["origin"], checkpoints, report, roots_at)
        completeness.check(bundle, checkpoints, report)
        report_quarantines(bundle, report)
        decisions.check(bundle, events, report, regulators)
    except VerificationFailed as exc:
        report.failure = str(exc)
    except (KeyError, TypeError, ValueError) as exc:
        report.failure = f"the bundle is malformed: {type(exc).__name__}: {exc}"
    return report
