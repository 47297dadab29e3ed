"""Checks of the log itself: checkpoint signatures, consistency, every event's leaf."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from govflow.trust import merkle, note
from govflow.verify.report import Report, VerificationFailed


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (ValueError, TypeError) as exc:
        raise VerificationFailed(f"{what} is not valid base64") from exc


def open_checkpoint(text: str, verifier_key: str, origin: str) -> tuple[int, bytes]:
    """Verify a signed checkpoint note; return (size, root)."""
    try:
        verifier = note.parse_verifier_key(verifier_key)
        body, _ = note.open_note(text, [verifier])
        checkpoint = note.Checkpoint.parse(body)
    except note.NoteError as exc:
        raise VerificationFailed(f"checkpoint signature or format is invalid: {exc}") from exc
    if checkpoint.origin != origin:
        raise VerificationFailed(
            f"checkpoint is for log {checkpoint.origin!r}, not {origin!r}"
        )
    return checkpoint.size, checkpoint.root_hash


def check_checkpoints(bundle: dict[str, Any], verifier_key: str,
                      report: Report) -> list[Any]:
    origin = bundle["log"]["origin"]
    checkpoints = []
    for entry in bundle["checkpoints"]:
        size, root = open_checkpoint(entry["note"], verifier_key, origin)
        if size != entry["size"] or root != _b64(entry["root_hash"], "checkpoint root"):
            raise VerificationFailed(
                f"checkpoint {entry['size']}: listed size/root differ from its note"
            )
        checkpoints.append((size, root))
    sizes = [s for s, _ in checkpoints]
    if sizes != sorted(set(sizes)):
        raise VerificationFailed("checkpoints are not in strictly increasing size order")
    proofs = {(p["first"], p["second"]): p["hashes"] for p in bundle.get("consistency", [])}
    for (s1, r1), (s2, r2) in zip(checkpoints, checkpoints[1:], strict=False):
        hashes = [_b64(h, "consistency proof") for h in proofs.get((s1, s2), [])]
        if (s1, s2) not in proofs or not merkle.verify_consistency(s1, s2, hashes, r1, r2):
            raise VerificationFailed(
                f"checkpoint {s2} is not consistent with checkpoint {s1}: the log was rewritten"
            )
    if checkpoints:
        report.ok(
            f"{len(checkpoints)} checkpoint signatures verified, "
            "each consistent with the one before"
        )
    return checkpoints


def check_trusted(
    trusted_note: str, verifier_key: str, origin: str, checkpoints: list[Any], report: Report,
    roots_at: dict[int, bytes],
) -> None:
    size, root = open_checkpoint(trusted_note, verifier_key, origin)
    latest = checkpoints[-1][0] if checkpoints else 0
    if size > latest:
        raise VerificationFailed(
            f"your saved checkpoint has {size} events but the bundle's log has only {latest}: "
            "events were removed"
        )
    known = dict(checkpoints) | roots_at
    if size not in known:
        raise VerificationFailed(
            f"your saved checkpoint (size {size}) is not among the log's checkpoints: "
            "the checkpoint history was rewritten"
        )
    if known[size] != root:
        raise VerificationFailed(
            f"your saved checkpoint (size {size}) has a different root than the log now has: "
            "the log forked or was rewritten"
        )
    report.ok(f"consistent with your saved checkpoint of size {size}")


# Events whose content the decision replay reads (transitions, keys, sign-offs, holds, the
# facts gates rest on: evidence, sanctions, system manifests, audits, findings,
# monitoring, cohorts and KYC), and every kind of event a signed act or a machine token
# writes: one of those *without* its envelope must reach the signature checks to be
# refused, not be filtered out here as a hashing-only event. A cheap regular-expression
# pre-filter, confirmed by the parsed type, spares hashing-only events from any further
# work.
DECISION_PREFIXES = ("release.", "key.", "signoff.", "hold.", "evidence.", "sanction.",
                     "system.registered", "system.version_created", "token.", "incident.",
                     "assignment.", "certificate.", "finding.", "conclusion.", "cohort.",
                     "conflict.", "monitoring.source_", "kyc.", "eval_run.")
DECISION_MARKERS = re.compile(
    r'"type":"(?:release|key|signoff|hold|evidence|sanction|system|token|incident|assignment'
    r'|certificate|finding|conclusion|cohort|conflict|monitoring|kyc|eval_run)\.|"envelope":\{'
)


class Event:
    """A logged event; its JSON is parsed only when a check needs it (most events are
    only hashed, and parsing a million of them would dominate verification time)."""

    __slots__ = ("index", "canonical", "type", "_body")

    def __init__(self, index: int, canonical: str):
        self.index = index
        self.canonical = canonical
        # The event body's keys are sorted and "type" is followed only by "uuid" (hex)
        # and "v", so the *last* '"type":"' in the canonical JSON is the event's type.
        # Reading it this way avoids parsing a million events to find the few that
        # carry decisions; `body` (parsed) is what every check then relies on.
        start = canonical.rfind('"type":"') + 8
        self.type = canonical[start:canonical.find('"', start)] if start >= 8 else ""
        self._body: dict[str, Any] | None = None

    @property
    def body(self) -> dict[str, Any]:
        if self._body is None:
            self._body = json.loads(self.canonical)
        return self._body

    def may_be(self, prefix: str) -> bool:
        return self.type.startswith(prefix)


def logged_time(value: str | None) -> datetime | None:
    """A time as the log writes it (RFC 3339, ``Z`` or ``+00:00``), or None."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def describe(event: Event) -> str:
    try:
        body = event.body
    except ValueError:
        return f"event #{event.index} (not valid JSON)"
    return f"event #{event.index} ({body.get('type')}, uuid {body.get('uuid')})"


def check_events(
    bundle: dict[str, Any], checkpoints: list[Any], report: Report,
    extra_sizes: Iterable[int] = (),
) -> tuple[list[Any], dict[Any, Any]]:
    """Recompute every leaf; verify inclusion (release scope) or the whole tree (all)."""
    events = []  # only those that record decisions; the rest are hashed and left alone
    leaves = []
    sha256 = hashlib.sha256
    fromhex = bytes.fromhex
    for row in bundle["events"]:
        canonical = row["canonical"]
        leaf = fromhex(row["leaf_hash"])
        if sha256(b"\x00" + canonical.encode("utf-8")).digest() != leaf:
            raise VerificationFailed(
                f"first bad event: {describe(Event(row['index'], canonical))}: its content does "
                "not hash to the leaf the log recorded — it was altered after it was logged"
            )
        leaves.append(leaf)
        if DECISION_MARKERS.search(canonical):
            event = Event(row["index"], canonical)
            if event.type.startswith(DECISION_PREFIXES) or "envelope" in event.body["payload"]:
                events.append(event)
    roots_at: dict[int, bytes] = {}
    if not checkpoints:
        raise VerificationFailed("the bundle has no checkpoint to verify events against")
    latest_size, latest_root = checkpoints[-1]
    if bundle["scope"].get("all"):
        indexes = [row["index"] for row in bundle["events"]]
        if indexes != list(range(len(indexes))) or len(indexes) != latest_size:
            raise VerificationFailed(
                f"a full export must hold events 0..{latest_size - 1}; it holds {len(indexes)}"
            )
        wanted = {s: r for s, r in checkpoints}
        builder = merkle.TreeBuilder()
        previous = 0
        # Roots at the sizes of checkpoints the regulator saved, too: a full log lets
        # us compare with any earlier state, not just the ones the server published.
        for size in sorted(s for s in set(extra_sizes) - set(wanted) if 0 < s <= latest_size):
            builder.extend(leaves[builder.size:size])
            roots_at[size] = builder.root()
        builder = merkle.TreeBuilder()
        for size in sorted(wanted):
            builder.extend(leaves[builder.size:size])
            if builder.root() != wanted[size]:
                first = Event(previous, bundle["events"][previous]["canonical"])
                raise VerificationFailed(
                    f"the tree of the first {size} events does not match checkpoint {size}: "
                    f"the log was changed between {describe(first)} and event #{size - 1}"
                )
            roots_at[size] = wanted[size]
            previous = size
        report.ok(f"recomputed the Merkle tree of all {latest_size} events: every root matches")
    else:
        for row, leaf in zip(bundle["events"], leaves, strict=True):
            proof = [_b64(h, "inclusion proof") for h in row.get("inclusion", [])]
            if not merkle.verify_inclusion(leaf, row["index"], latest_size, proof, latest_root):
                event = Event(row["index"], row["canonical"])
                raise VerificationFailed(
                    f"first bad event: {describe(event)}: not included in checkpoint {latest_size}"
                )
        report.ok(f"{len(leaves)} events: each leaf recomputed and proven included in "
                  f"checkpoint {latest_size}")
    return events, roots_at


QUARANTINE_EVENT = "log.event_quarantined"


def report_quarantines(bundle: dict[str, Any], report: Report) -> None:
    """Name every row the sequencer refused and the operator set aside (govflow.audit.
    quarantine): the log is whole without it, but someone wrote to it past govflow, and a
    regulator should hear of that from the verifier, not only from the server."""
    for row in bundle["events"]:
        if QUARANTINE_EVENT not in row["canonical"]:
            continue
        body = json.loads(row["canonical"])
        if body.get("type") != QUARANTINE_EVENT:
            continue
        payload = body["payload"]
        refused = payload.get("row", {})
        report.warn(
            f"event #{row['index']}: a row written past govflow was refused by the sequencer "
            f"({payload.get('alarm_reason')}) and quarantined at {body.get('at')}: row "
            f"{refused.get('id')} ({refused.get('uuid')}), stored leaf hash "
            f"{str(refused.get('stored_leaf_hash'))[:16]}…; operator's reason: "
            f"{payload.get('reason')}"
        )
