"""Which backend answered: the model name and system fingerprint of every agent reply.

The model name in a reply is what the endpoint says about itself; the lab runs the endpoint.
What the records can still show is *variation*: a lab that routes some prompts (the hard
cells, or a rerun) to a safer model under the same name gets replies whose backend
fingerprints differ, unless it also forges them. So the pooled replies must all report one
fingerprint (or all none), or only fingerprints the manifest declares
(``serving.system_fingerprints``, a change of which is a new system version), and every
reply must name the model it came from. What this cannot prove, and what would, is in
docs/eval-gate.md ("What the serving check proves").

Plain Python (no Django), shared with the offline re-derivation of the gate.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

NONE = "(none)"  # how a reply without a fingerprint is shown


def _agent_replies(record: dict[str, Any]) -> tuple[set[str], bool]:
    """The fingerprints of the sample's agent replies, and whether a reply named no model.
    Records without per-call entries fall back on the sample's summary set."""
    prov = record.get("provenance") or {}
    calls = prov.get("calls")
    if not isinstance(calls, list):
        return set(prov.get("system_fingerprints") or [NONE]), False
    agent = [c for c in calls if not str(c.get("purpose", "")).startswith("judge")]
    return ({c.get("system_fingerprint") or NONE for c in agent},
            any(not c.get("model") for c in agent))


def fingerprint_tally(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """What the check needs of ``records``, as JSON counts that add up across runs: the
    fingerprints seen per cell, how many samples showed each set of fingerprints, and how
    many had a reply that named no model. A run's closing event logs it."""
    by_cell: dict[str, set[str]] = {}
    sets: dict[tuple[str, ...], int] = {}
    unnamed_samples = 0
    for record in records:
        prints, unnamed = _agent_replies(record)
        by_cell.setdefault(str(record.get("cell")), set()).update(prints)
        key = tuple(sorted(prints))
        sets[key] = sets.get(key, 0) + 1
        unnamed_samples += unnamed
    return {"by_cell": {c: sorted(p) for c, p in sorted(by_cell.items())},
            "sets": sorted([list(k), n] for k, n in sets.items()),
            "unnamed_samples": unnamed_samples}


def merge_fingerprints(tallies: Iterable[dict[str, Any]]) -> dict[str, Any]:
    by_cell: dict[str, set[str]] = {}
    sets: dict[tuple[str, ...], int] = {}
    unnamed = 0
    for t in tallies:
        for cell, prints in t["by_cell"].items():
            by_cell.setdefault(cell, set()).update(prints)
        for prints, n in t["sets"]:
            sets[tuple(prints)] = sets.get(tuple(prints), 0) + n
        unnamed += t["unnamed_samples"]
    return {"by_cell": {c: sorted(p) for c, p in sorted(by_cell.items())},
            "sets": sorted([list(k), n] for k, n in sets.items()), "unnamed_samples": unnamed}


def fingerprint_problems(records: list[dict[str, Any]],
                         serving: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    return fingerprint_decision(fingerprint_tally(records), serving)


def fingerprint_decision(tally: dict[str, Any],
                         serving: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Refusals and evidence of the check over a (merged) `fingerprint_tally`."""
    declared = set(serving.get("system_fingerprints") or [])
    by_cell = {cell: set(prints) for cell, prints in tally["by_cell"].items()}
    unnamed_samples = tally["unnamed_samples"]
    undeclared_samples = sum(n for prints, n in tally["sets"] if set(prints) - declared)
    seen = set().union(*by_cell.values()) if by_cell else set()
    mixed = sorted(cell for cell, prints in by_cell.items() if len(prints) > 1)
    problems = []
    if unnamed_samples:
        problems.append(f"{unnamed_samples} sample(s) have replies that name no model, so "
                        "they cannot be tied to the served model")
    if declared and undeclared_samples:
        problems.append(
            f"{undeclared_samples} sample(s) were answered with fingerprints the manifest does "
            f"not declare ({', '.join(sorted(seen - declared))}; serving.system_fingerprints: "
            f"{', '.join(sorted(declared))})")
    elif not declared and len(seen) > 1:
        where = (f"; {len(mixed)} cell(s) mix them, e.g. {mixed[0]}" if mixed
                 else "; each cell has one, but they differ between cells")
        problems.append(
            f"the pooled replies report {len(seen)} system fingerprints "
            f"({', '.join(sorted(seen))}) and the manifest declares none "
            f"(serving.system_fingerprints): one model name answering from more than one "
            f"backend{where}")
    return problems, {"fingerprints_by_cell": {c: sorted(p) for c, p in sorted(by_cell.items())},
                      "fingerprints_declared": sorted(declared)}
