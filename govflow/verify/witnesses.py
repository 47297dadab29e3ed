"""Trust roots of the verifier: the pinned log key, and a quorum of pinned witnesses.

A bundle names its own log key, but the lab that runs the log builds the bundle: a
verifier that believed that key would accept a log the lab re-signed from scratch with a
new key. So the key must be pinned (``--log-key``) or trusting the bundle's own key must
be asked for explicitly (``--trust-bundle-key``). Witness cosignatures (C2SP
tlog-cosignature) answer the remaining attack, a rewrite re-signed with the *same* key:
witnesses the lab does not control cosign only checkpoints consistent with what they saw,
and the verifier refuses a checkpoint that fewer than ``--quorum`` pinned witnesses
cosigned.
"""

from __future__ import annotations

from typing import Any

from govflow.trust.cosignature import Cosigner, parse_cosigner_vkey, verify_cosignatures
from govflow.trust.note import NoteError, split_note
from govflow.verify.report import Report, VerificationFailed


class UsageError(ValueError):
    """The trust roots given to the verifier are inconsistent (bad usage, exit status 2)."""


def parse_witnesses(vkeys: list[str], quorum: int | None) -> tuple[list[Cosigner], int]:
    try:
        witnesses = [parse_cosigner_vkey(v) for v in vkeys]
    except NoteError as exc:
        raise UsageError(f"--witness: {exc}") from exc
    if len({w.vkey for w in witnesses}) != len(witnesses):
        raise UsageError("--witness: the same witness key is given twice")
    if quorum is None:
        quorum = len(witnesses)
    if quorum < 0 or quorum > len(witnesses):
        raise UsageError(f"--quorum {quorum} needs at least that many --witness keys "
                         f"(given {len(witnesses)})")
    return witnesses, quorum


def choose_log_key(bundle: dict[str, Any], log_key: str | None, trust_bundle_key: bool,
                   report: Report) -> str:
    if log_key is not None:
        return log_key
    if not trust_bundle_key:
        raise VerificationFailed(
            "no pinned log key: pass the key you obtained independently with --log-key, or "
            "--trust-bundle-key to accept the one the bundle names (which the log operator "
            "chose, so it proves nothing against that operator)"
        )
    report.warn("log key taken from the bundle itself (--trust-bundle-key): a log re-signed "
                "with a new key would pass; pin the key with --log-key")
    return str(bundle["log"]["verifier_key"])


def count_cosigned(entry: dict[str, Any], witnesses: list[Cosigner]) -> list[str]:
    """The names of the pinned witnesses whose cosignature of this checkpoint verifies. A
    line naming a pinned witness that does not verify is a forgery and fails outright."""
    body, own_lines = split_note(entry["note"])
    lines = [*own_lines, *entry.get("cosignatures", [])]
    valid, problems = verify_cosignatures(body, lines, witnesses)
    if problems:
        raise VerificationFailed(f"checkpoint {entry['size']}: {problems[0]}: forged cosignature")
    return sorted(c.name for c in valid)


def check_quorum(entry: dict[str, Any], witnesses: list[Cosigner], quorum: int,
                 report: Report) -> None:
    """The checkpoint the bundle's events rest on must carry ``quorum`` valid cosignatures
    from the pinned witnesses."""
    if not witnesses:
        if quorum:
            raise VerificationFailed("a quorum needs pinned witnesses (--witness)")
        return
    valid = count_cosigned(entry, witnesses)
    names = ", ".join(valid) or "none"
    if len(valid) < quorum:
        raise VerificationFailed(
            f"checkpoint {entry['size']} is cosigned by {len(valid)} of the pinned witnesses "
            f"({names}), fewer than the quorum of {quorum}: nobody outside the log vouches "
            "that it was not rewritten or forked"
        )
    report.ok(f"checkpoint {entry['size']} cosigned by {len(valid)} pinned witness(es) "
              f"({names}); quorum {quorum} met")


def check_every_quorum(entries: list[dict[str, Any]], witnesses: list[Cosigner], quorum: int,
                       report: Report) -> None:
    """Every checkpoint of a bundle, checked against the pinned witnesses.

    The newest is the one every event is proven against: it must meet the quorum. Each
    earlier one is proven, by the consistency proofs the verifier has already checked, to
    be a prefix of the newest; so the newest's quorum vouches for it too, and an earlier
    checkpoint under quorum (a witness was down then) does not fail the bundle. The report
    names each such checkpoint and how many cosignatures it has, and any forged line on
    any checkpoint fails the bundle."""
    if not entries:
        return
    *earlier, newest = entries
    check_quorum(newest, witnesses, quorum, report)
    if not witnesses or not earlier:
        return
    met = []
    for entry in earlier:
        valid = count_cosigned(entry, witnesses)
        if len(valid) >= quorum:
            met.append(entry["size"])
            continue
        report.warn(
            f"checkpoint {entry['size']}: cosigned by {len(valid)} of the pinned witnesses "
            f"({', '.join(valid) or 'none'}), under the quorum of {quorum}; not relied on by "
            f"itself: it is proven a prefix of checkpoint {newest['size']}, which meets it"
        )
    if met:
        report.ok(f"{len(met)} earlier checkpoint(s) also meet quorum {quorum} "
                  f"(sizes {', '.join(map(str, met[:20]))}{', …' if len(met) > 20 else ''})")
