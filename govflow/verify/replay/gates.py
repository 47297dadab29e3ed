"""Re-deriving a logged gate result from logged facts, per gate kind.

A re-deriver gets the recorded gate (from the advance's gate report), the release's
replayed state before the advance, and the facts logged before it. It raises
`Refused` when the recorded result cannot be re-derived, and returns normally when
it can. A re-deriver that recomputes a gate with the server's decision code compares
the whole result (`Advance.compare`): the evidence must be the evidence the log gives
(`gate_evidence`), and the gate must be met on it (`gate_not_met`). Kinds without a
re-deriver are reported as taken from the recorded report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from govflow.core.times import rfc3339
from govflow.oversight.rules import sanction_forbids
from govflow.verify.replay import auditing, cohorts, evalruns, monitoring
from govflow.verify.replay.facts import Facts
from govflow.verify.replay.machine import Policy, Refused, ReleaseState, parse_time

# A stage's entry is logged a moment after the server read the clock for it; the
# advance likewise. This much slack separates the two clocks readings, no more.
CLOCK_SLACK = timedelta(seconds=2)


@dataclass
class Advance:
    body: dict[str, Any]
    state: ReleaseState  # before the advance
    policy: Policy
    facts: Facts

    @property
    def at(self) -> datetime:
        return parse_time(self.body["at"])

    def compare(self, gate: dict[str, Any], met: bool, reason: str,
                evidence: dict[str, Any]) -> None:
        """The recorded gate against the one recomputed from the log."""
        # Not met on the log's facts is the refusal that matters, whatever the report says.
        if not met:
            raise Refused("gate_not_met", f"gate {gate['id']} re-derived from the log is not "
                                          f"met: {reason}")
        derived = json.loads(json.dumps(evidence))  # as JSON has it: tuples become lists
        if not same_json(gate["evidence"], derived):
            raise Refused("gate_evidence", f"gate {gate['id']} records evidence "
                          f"{_brief(gate['evidence'])}; the log gives {_brief(derived)}")


def same_json(a: Any, b: Any) -> bool:
    """Whether two JSON values have the same RFC 8785 canonical form, without writing it:
    numbers compare as the doubles canonical JSON writes (1 and 1.0 alike), a boolean is
    never a number. Much faster than canonicalising both sides."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict):
        return (isinstance(b, dict) and a.keys() == b.keys()
                and all(same_json(a[k], b[k]) for k in a))
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same_json, a, b))
    if isinstance(a, (int, float)):
        return isinstance(b, (int, float)) and float(a) == float(b)
    return type(a) is type(b) and bool(a == b)


def _brief(value: Any, limit: int = 600) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "…"


def _iso(moment: datetime) -> str:
    return rfc3339(moment)


def evidence_document(gate: dict[str, Any], advance: Advance) -> None:
    params = gate["params"]
    need = max(int(params.get("min_count") or 1), 1)
    docs = sorted(
        (d for d in advance.facts.evidence.get(advance.state.release, [])
         if d["document_type"] == params["document_type"]),
        key=lambda d: d["id"],
    )
    logged = {"documents": [{"id": d["id"], "name": d["name"], "sha256": d["sha256"]}
                            for d in docs]}
    if gate["evidence"] != logged:
        raise Refused("gate_evidence", f"gate {gate['id']} lists documents "
                      f"{gate['evidence'].get('documents')}, the log has {logged['documents']}")
    if len(docs) < need:
        raise Refused("gate_not_met", f"gate {gate['id']} needs {need} "
                      f"{params['document_type']} document(s); {len(docs)} were logged")


def stage_dwell(gate: dict[str, Any], advance: Advance) -> None:
    params = gate["params"]
    required = timedelta(days=params.get("min_days") or 0, hours=params.get("min_hours") or 0)
    entered = advance.state.entered_at
    recorded = gate["evidence"]
    claimed = parse_time(recorded["entered_at"])
    if not entered - CLOCK_SLACK <= claimed <= entered:
        raise Refused("gate_evidence", f"gate {gate['id']} says the stage was entered at "
                      f"{recorded['entered_at']}, the log at {_iso(entered)}")
    if advance.at + CLOCK_SLACK < entered + required:
        raise Refused("gate_not_met", f"gate {gate['id']}: entered {advance.state.stage} at "
                      f"{_iso(entered)} (logged), advanced at {advance.body['at']}: less "
                      f"than {required}")


def no_sanction(gate: dict[str, Any], advance: Advance) -> None:
    state, facts = advance.state, advance.facts
    compute = facts.training_compute(state.manifest_digest)
    target = advance.body["payload"]["to"]
    blocking = [
        s for s in facts.sanctions.values()
        if s.organization == state.organization and not s.lifted and s.until > advance.at
        and sanction_forbids(stage=s.stage, min_training_compute_flop=s.min_training_compute_flop,
                             stage_names=advance.policy.stages, target=target,
                             training_compute_flop=compute)
    ]
    if blocking:
        raise Refused("sanction", f"sanction {blocking[0].id} on the lab forbade entering "
                      f"{advance.body['payload']['to']} (logged, in force until "
                      f"{_iso(blocking[0].until)})")
    recorded = [s["id"] for s in gate["evidence"].get("sanctions", [])]
    if recorded:
        raise Refused("gate_evidence", f"gate {gate['id']} lists sanctions {recorded} yet "
                                       "claims to be met")


REDERIVERS: dict[str, Callable[[dict[str, Any], Advance], None]] = {
    "evidence_document": evidence_document,
    "stage_dwell": stage_dwell,
    "no_sanction": no_sanction,
    "open_findings": auditing.rederive_open_findings,
    "third_party_audit": auditing.rederive_third_party_audit,
    "monitoring": monitoring.rederive_monitoring,
    "cohort": cohorts.rederive_cohort,
    "deception_eval": evalruns.rederive_deception_eval,
}
