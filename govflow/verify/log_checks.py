"""Checks of the log itself: checkpoint signatures, consistency, every event's leaf."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
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


def check_checkpoints(bundle: dict[str, Any], verifier_key: str, report: Report) -> list:
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
    trusted_note: str, verifier_key: str, origin: str, checkpoints: list, report: Report,
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


class Event:
    """A logged event; its JSON is parsed only when a check needs it (most events are
    only hashed, and parsing a million of them would dominate verification time)."""

    __slots__ = ("index", "canonical", "_body")

    def __init__(self, index: int, canonical: str):
        self.index = index
        self.canonical = canonical
        self._body: dict[str, Any] | None = None

    @property
    def body(self) -> dict[str, Any]:
        if self._body is None:
            self._body = json.loads(self.canonical)
        return self._body

    def may_be(self, *event_types: str) -> bool:
        # Canonical JSON has no spaces, so the type appears as '"type":"<name>'; a match
        # here is only a hint (a payload could contain the same text), the body decides.
        return any(f'"type":"{t}' in self.canonical for t in event_types)


def describe(event: Event) -> str:
    try:
        body = event.body
    except ValueError:
        return f"event #{event.index} (not valid JSON)"
    return f"event #{event.index} ({body.get('type')}, uuid {body.get('uuid')})"


def check_events(
    bundle: dict[str, Any], checkpoints: list, report: Report, extra_sizes: Iterable[int] = ()
) -> tuple[list, dict]:
    """Recompute every leaf; verify inclusion (release scope) or the whole tree (all)."""
    events = []
    sha256 = hashlib.sha256
    for row in bundle["events"]:
        canonical = row["canonical"]
        event = Event(row["index"], canonical)
        if row.get("leaf_hash") != sha256(b"\x00" + canonical.encode("utf-8")).hexdigest():
            raise VerificationFailed(
                f"first bad event: {describe(event)}: its content does not hash to the leaf "
                "the log recorded — it was altered after it was logged"
            )
        events.append(event)
    roots_at: dict[int, bytes] = {}
    if not checkpoints:
        raise VerificationFailed("the bundle has no checkpoint to verify events against")
    latest_size, latest_root = checkpoints[-1]
    if bundle["scope"].get("all"):
        indexes = [e.index for e in events]
        if indexes != list(range(len(indexes))) or len(indexes) != latest_size:
            raise VerificationFailed(
                f"a full export must hold events 0..{latest_size - 1}; it holds {len(indexes)}"
            )
        wanted = {s: r for s, r in checkpoints}
        builder = merkle.TreeBuilder()
        previous = 0
        leaves = [bytes.fromhex(row["leaf_hash"]) for row in bundle["events"]]
        # Roots at the sizes of checkpoints the regulator saved, too: a full log lets
        # us compare with any earlier state, not just the ones the server published.
        for size in sorted(s for s in set(extra_sizes) - set(wanted) if 0 < s <= latest_size):
            builder.extend(leaves[builder.size:size])
            roots_at[size] = builder.root()
        builder = merkle.TreeBuilder()
        for size in sorted(wanted):
            builder.extend(leaves[builder.size:size])
            if builder.root() != wanted[size]:
                first = events[previous]
                raise VerificationFailed(
                    f"the tree of the first {size} events does not match checkpoint {size}: "
                    f"the log was changed between {describe(first)} and event #{size - 1}"
                )
            roots_at[size] = wanted[size]
            previous = size
        report.ok(f"recomputed the Merkle tree of all {latest_size} events: every root matches")
    else:
        for row, event in zip(bundle["events"], events, strict=True):
            proof = [_b64(h, "inclusion proof") for h in row.get("inclusion", [])]
            leaf = bytes.fromhex(row["leaf_hash"])
            if not merkle.verify_inclusion(leaf, row["index"], latest_size, proof, latest_root):
                raise VerificationFailed(
                    f"first bad event: {describe(event)}: not included in checkpoint {latest_size}"
                )
        report.ok(f"{len(events)} events: each leaf recomputed and proven included in "
                  f"checkpoint {latest_size}")
    return events, roots_at
