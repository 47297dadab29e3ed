"""Monitoring facts from the log, and the `monitoring` gate re-derived from them with the
server's decision code (`govflow.monitoring.decisions`).

Sources come from `monitoring.source_registered` / `monitoring.source_retired`, incidents
from `incident.reported` / `incident.resolved` (severity and the incident resolved read
from the signed statement when the act was signed). Heartbeats are not logged: they are
unsigned telemetry from the lab's own sources, which the operator could produce at will,
so a log of them would vouch for nothing. Liveness is therefore the one part of this
gate taken from the report, and only for sources the log shows registered and not
retired: a report that counts an unknown or retired source as live is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from govflow.monitoring.decisions import IncidentFacts, SourceFacts, monitoring
from govflow.verify.replay.machine import Refused
from govflow.verify.replay.signed import signed_predicate

if TYPE_CHECKING:
    from govflow.verify.replay.gates import Advance

TYPES = {"monitoring.source_registered", "monitoring.source_retired", "incident.reported",
         "incident.resolved"}


@dataclass
class MonitoringFacts:
    # release -> source id -> (name, kind); retired ones removed
    sources: dict[int, dict[int, tuple[str, str]]] = field(default_factory=dict)
    # release -> incident id -> facts, while open
    incidents: dict[int, dict[int, IncidentFacts]] = field(default_factory=dict)

    def collect(self, body: dict[str, Any]) -> None:
        kind, payload, release = body["type"], body["payload"], body["release"]
        if kind == "monitoring.source_registered":
            self.sources.setdefault(release, {})[payload["source"]] = (payload["name"],
                                                                       payload["kind"])
        elif kind == "monitoring.source_retired":
            self.sources.get(release, {}).pop(payload["source"], None)
        elif kind == "incident.reported":
            said = signed_predicate(body) if "envelope" in payload else payload
            self.incidents.setdefault(release, {})[payload["incident"]] = IncidentFacts(
                payload["incident"], said["severity"], said["category"])
        elif kind == "incident.resolved":
            said = signed_predicate(body) if "envelope" in payload else payload
            if self.incidents.get(release, {}).pop(said["incident"], None) is None:
                raise Refused("incident", f"resolves incident {said['incident']}, which is "
                                          "not open on this release in the log")


def rederive_monitoring(gate: dict[str, Any], advance: Advance) -> None:
    facts, release = advance.facts.monitoring, advance.state.release
    claimed_live = set(gate["evidence"].get("live_sources") or [])
    sources = [SourceFacts(sid, name, kind, sid in claimed_live)
               for sid, (name, kind) in sorted(facts.sources.get(release, {}).items())]
    incidents = [i for _, i in sorted(facts.incidents.get(release, {}).items())]
    met, reason, evidence = monitoring(sources=sources, open_incidents=incidents,
                                       params=gate["params"])
    advance.compare(gate, met, reason, evidence)
