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
    from govflow.monitoring.decisions import IncidentFacts, SourceFacts, monitoring
    from govflow.monitoring.models import Incident, IncidentStatus, MonitoringSource

    since = ctx.now - timedelta(minutes=params["max_heartbeat_age_minutes"])
    sources = [
        SourceFacts(s.pk, s.name, s.kind, bool(s.last_heartbeat_at and
                                               s.last_heartbeat_at >= since))
        for s in MonitoringSource.objects.filter(release=ctx.release, retired_at__isnull=True)
        .order_by("id")
    ]
    incidents = [IncidentFacts(i.pk, i.severity, i.category) for i in
                 Incident.objects.filter(release=ctx.release, status=IncidentStatus.OPEN)
                 .order_by("id")]
    met, reason, evidence = monitoring(sources=sources, open_incidents=incidents, params=params)
    return GateResult(met, reason, evidence)


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
