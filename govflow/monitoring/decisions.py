"""The `monitoring` gate's decision, a pure function over plain facts.

The server's gate (`govflow.monitoring.gate`) gathers sources, heartbeats and incidents
from the tables; the offline verifier (`govflow.verify.replay.monitoring`) gathers the
sources and incidents from logged events. Both decide here. No Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from govflow.monitoring.predicates import SEVERITIES

NEVER = "never"


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def at_or_above(severity: str, threshold: str) -> bool:
    return threshold != NEVER and severity_rank(severity) >= severity_rank(threshold)


@dataclass(frozen=True)
class SourceFacts:
    id: int
    name: str
    kind: str
    live: bool


@dataclass(frozen=True)
class IncidentFacts:
    id: int
    severity: str
    category: str


def monitoring(*, sources: list[SourceFacts], open_incidents: list[IncidentFacts],
               params: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    """(met, reason, evidence) over the release's unretired sources and open incidents
    (both in id order)."""
    live = [s for s in sources if s.live]
    blocking = [i for i in open_incidents if at_or_above(i.severity, params["severity"])]
    # Which sources are live, not when they last beat: the evidence must not drift with
    # every heartbeat, or a report approved a minute ago would no longer match.
    evidence = {
        "sources": [{"id": s.id, "name": s.name, "kind": s.kind} for s in sources],
        "live_sources": [s.id for s in live],
        "max_heartbeat_age_minutes": params["max_heartbeat_age_minutes"],
        "open_incidents": [{"id": i.id, "severity": i.severity, "category": i.category}
                           for i in blocking],
        "severity": params["severity"],
    }
    problems = []
    if len(live) < params["min_sources"]:
        stale = [s.name for s in sources if not s.live]
        problems.append(
            f"{len(live)} live monitoring source(s), {params['min_sources']} needed (a "
            f"heartbeat within {params['max_heartbeat_age_minutes']:g} min)"
            + (f"; silent: {', '.join(stale)}" if stale else "")
        )
    if blocking:
        listed = ", ".join(f"#{i.id} {i.severity} {i.category}" for i in blocking)
        problems.append(f"open incident(s) at or above {params['severity']}: {listed}")
    if problems:
        return False, "; ".join(problems), evidence
    return True, (f"{len(live)} live monitoring source(s); no open incident at or above "
                  f"{params['severity']}"), evidence
