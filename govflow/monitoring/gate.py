"""Gate kind `monitoring`: the release is watched, and nothing serious is open.

    - kind: monitoring
      min_sources: 1                  # registered monitoring sources ...
      max_heartbeat_age_minutes: 15   # ... that sent a heartbeat this recently
      severity: high                  # no open incident at or above this

Wider release only "with no complications" in the limited one (MISSION): the gate wants
live monitoring in place before it and no open incident at or above the severity.
"""

from __future__ import annotations

from datetime import timedelta

from govflow.gates.params import Param
from govflow.gates.registry import GateKind, GateResult
from govflow.monitoring.policy import SEVERITIES


def evaluate(params, ctx) -> GateResult:
    from govflow.monitoring.models import Incident, IncidentStatus, MonitoringSource
    from govflow.monitoring.policy import at_or_above

    since = ctx.now - timedelta(minutes=params["max_heartbeat_age_minutes"])
    sources = list(MonitoringSource.objects.filter(release=ctx.release, retired_at__isnull=True)
                   .order_by("id"))
    live = [s for s in sources if s.last_heartbeat_at and s.last_heartbeat_at >= since]
    blocking = [i for i in Incident.objects.filter(release=ctx.release,
                                                   status=IncidentStatus.OPEN).order_by("id")
                if at_or_above(i.severity, params["severity"])]
    # Which sources are live, not when they last beat: the evidence must not drift with
    # every heartbeat, or a report approved a minute ago would no longer match.
    evidence = {
        "sources": [{"id": s.pk, "name": s.name, "kind": s.kind} for s in sources],
        "live_sources": [s.pk for s in live],
        "max_heartbeat_age_minutes": params["max_heartbeat_age_minutes"],
        "open_incidents": [{"id": i.pk, "severity": i.severity, "category": i.category}
                           for i in blocking],
        "severity": params["severity"],
    }
    problems = []
    if len(live) < params["min_sources"]:
        stale = [s.name for s in sources if s not in live]
        problems.append(
            f"{len(live)} live monitoring source(s), {params['min_sources']} needed (a "
            f"heartbeat within {params['max_heartbeat_age_minutes']:g} min)"
            + (f"; silent: {', '.join(stale)}" if stale else "")
        )
    if blocking:
        listed = ", ".join(f"#{i.pk} {i.severity} {i.category}" for i in blocking)
        problems.append(f"open incident(s) at or above {params['severity']}: {listed}")
    if problems:
        return GateResult(False, "; ".join(problems), evidence)
    return GateResult(True, f"{len(live)} live monitoring source(s); no open incident at or "
                            f"above {params['severity']}", evidence)


KIND = GateKind(
    name="monitoring",
    description="Live monitoring sources watch the release and no serious incident is open.",
    params={
        "min_sources": Param("int", required=False, default=1, minimum=1),
        "max_heartbeat_age_minutes": Param("number", required=False, default=15, minimum=1),
        "severity": Param("str", required=False, default="high", choices=SEVERITIES,
                          help="no open incident at or above this severity"),
    },
    evaluate=evaluate,
)
