"""What gates rest on, gathered from logged events in log order.

Only what the log says counts: evidence documents by digest from `evidence.attached`,
sanctions from `sanction.imposed` / `sanction.lifted`, system manifests from
`system.version_created`; the auditing, monitoring, cohort and eval-run facts are
gathered by their own modules (`replay.auditing`, `replay.monitoring`, `replay.cohorts`,
`replay.evalruns`). A
re-derivation reads the facts as they stood when the advance was logged, because the
replay collects them as it goes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from govflow.trust.canonical import canonical_json
from govflow.verify.replay import auditing, cohorts, evalruns, monitoring
from govflow.verify.replay.machine import parse_time

OWN_TYPES = {"evidence.attached", "sanction.imposed", "sanction.lifted",
             "system.registered", "system.version_created"}
FACT_TYPES = (OWN_TYPES | auditing.TYPES | monitoring.TYPES | cohorts.TYPES
              | evalruns.TYPES)


def _as_numbers(value: Any) -> Any:
    """JSON numbers as RFC 8785 wrote them: 1e20 was a float when it was hashed and
    reads back as the integer 100000000000000000000, which I-JSON leaves to floats."""
    if isinstance(value, dict):
        return {k: _as_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_numbers(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return float(value)
    return value


@dataclass
class LoggedSanction:
    id: int
    organization: int
    stage: str
    min_training_compute_flop: float
    until: datetime
    lifted: bool = False


@dataclass
class Facts:
    evidence: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    sanctions: dict[int, LoggedSanction] = field(default_factory=dict)
    manifests: dict[str, dict[str, Any]] = field(default_factory=dict)  # by digest
    audit: auditing.AuditFacts = field(default_factory=auditing.AuditFacts)
    monitoring: monitoring.MonitoringFacts = field(default_factory=monitoring.MonitoringFacts)
    cohorts: cohorts.CohortLog = field(default_factory=cohorts.CohortLog)
    evalruns: evalruns.EvalRunLog = field(default_factory=evalruns.EvalRunLog)

    def collect(self, body: dict[str, Any]) -> None:
        kind, payload = body["type"], body["payload"]
        if kind in auditing.TYPES:
            self.audit.collect(body)
        elif kind in monitoring.TYPES:
            self.monitoring.collect(body)
        elif kind in cohorts.TYPES:
            self.cohorts.collect(body)
        elif kind in evalruns.TYPES:
            self.evalruns.collect(body)
        elif kind == "evidence.attached":
            self.evidence.setdefault(body["release"], []).append({
                "id": int(body["subject"]["id"]), "document_type": payload["document_type"],
                "name": payload["name"], "sha256": payload["sha256"],
            })
        elif kind == "sanction.imposed":
            self.sanctions[payload["sanction"]] = LoggedSanction(
                id=payload["sanction"], organization=body["organization"],
                stage=payload["stage"],
                min_training_compute_flop=payload["min_training_compute_flop"],
                until=parse_time(payload["until"]),
            )
        elif kind == "sanction.lifted" and payload["sanction"] in self.sanctions:
            self.sanctions[payload["sanction"]].lifted = True
        elif kind in ("system.registered", "system.version_created"):
            manifest = payload.get("manifest") or {}
            # Only a manifest that hashes to its digest says anything about the system.
            digest = "sha256:" + hashlib.sha256(canonical_json(_as_numbers(manifest))).hexdigest()
            if digest == payload["manifest_digest"]:
                self.manifests[digest] = manifest

    def training_compute(self, manifest_digest: str) -> float | None:
        manifest = self.manifests.get(manifest_digest)
        if manifest is None:
            return None  # unknown counts as above every threshold, as on the server
        return (manifest.get("model") or {}).get("training_compute_flop")
