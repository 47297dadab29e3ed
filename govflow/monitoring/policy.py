"""What a release's policy says about incidents: the `incident_response` section.

    incident_response:
      pause_at: critical          # an incident at or above this severity pauses the release
      notify_regulator_at: high   # ... and notifies every regulator (an outbox row)
      reporting:                  # reporting clocks, EU GPAI code-of-practice style
        applies_at: high
        initial_days: {critical_infrastructure: 2, weight_exfiltration: 5, ...}
        follow_up_days: 28
        final_days_after_resolution: 60
        remind_days_before: 1

Every key is optional; what a policy leaves out takes the defaults below. The defaults
follow the serious-incident timelines of the EU General-Purpose AI Code of Practice
(Safety and Security chapter): 2 days for a serious and irreversible disruption of
critical infrastructure, 5 for a serious cybersecurity breach (weight exfiltration
included), 10 for a death, 15 for other serious harm; intermediate reports at least every
4 weeks; a final report within 60 days of resolution. Categories the Code does not name
(deceptive behaviour observed, misuse) take 15 days unless the policy says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# One list of each, shared with the signed incident statement (Django-free).
from govflow.monitoring.predicates import CATEGORIES, SEVERITIES  # noqa: E402
from govflow.policy.selectors import policy_of

DEFAULT_INITIAL_DAYS = {
    "critical_infrastructure": 2,
    "security_incident": 5,
    "weight_exfiltration": 5,
    "loss_of_life": 10,
    "serious_harm": 15,
    "deceptive_behaviour": 15,
    "misuse": 15,
    "other": 15,
}
# Written once, Django-free, for the gate and the offline verifier alike.
from govflow.monitoring.decisions import NEVER, at_or_above, severity_rank  # noqa: E402, F401


@dataclass(frozen=True)
class ReportingRules:
    applies_at: str = "high"
    initial_days: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_INITIAL_DAYS))
    follow_up_days: int = 28
    final_days_after_resolution: int = 60
    remind_days_before: int = 1


@dataclass(frozen=True)
class IncidentRules:
    pause_at: str = "critical"
    notify_regulator_at: str = "high"
    reporting: ReportingRules = field(default_factory=ReportingRules)


def incident_rules_from(document: dict[str, Any]) -> IncidentRules:
    raw = document.get("incident_response") or {}
    reporting = raw.get("reporting") or {}
    defaults = ReportingRules()
    return IncidentRules(
        pause_at=raw.get("pause_at", "critical"),
        notify_regulator_at=raw.get("notify_regulator_at", "high"),
        reporting=ReportingRules(
            applies_at=reporting.get("applies_at", defaults.applies_at),
            initial_days={**DEFAULT_INITIAL_DAYS, **(reporting.get("initial_days") or {})},
            follow_up_days=reporting.get("follow_up_days", defaults.follow_up_days),
            final_days_after_resolution=reporting.get(
                "final_days_after_resolution", defaults.final_days_after_resolution
            ),
            remind_days_before=reporting.get("remind_days_before", defaults.remind_days_before),
        ),
    )


def incident_rules(release) -> IncidentRules:
    return incident_rules_from(policy_of(release.policy).document)


# --- validation (govflow.policy.document calls these through SECTIONS) -------------------


def _severity_problem(value: Any, *, allow_never: bool) -> str | None:
    allowed = (*SEVERITIES, NEVER) if allow_never else SEVERITIES
    if value not in allowed:
        return f"{value!r} is not one of: {', '.join(allowed)}"
    return None


def _days_problem(value: Any, *, minimum: int = 1) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        return f"must be a whole number of days, at least {minimum}, got {value!r}"
    return None


def check_incident_response(value: Any, stages: list[str]) -> list[tuple[str, str]]:  # noqa: ARG001
    if not isinstance(value, dict):
        return [("", "must be a mapping (pause_at, notify_regulator_at, reporting)")]
    problems = []
    known = {"pause_at", "notify_regulator_at", "reporting"}
    for key in sorted(set(value) - known):
        problems.append((key, f"unknown key; incident_response has: {', '.join(sorted(known))}"))
    for key in ("pause_at", "notify_regulator_at"):
        if key in value and (problem := _severity_problem(value[key], allow_never=True)):
            problems.append((key, problem))
    reporting = value.get("reporting")
    if reporting is None:
        return problems
    if not isinstance(reporting, dict):
        return [*problems, ("reporting", "must be a mapping")]
    known = {"applies_at", "initial_days", "follow_up_days", "final_days_after_resolution",
             "remind_days_before"}
    for key in sorted(set(reporting) - known):
        problems.append((f"reporting.{key}",
                         f"unknown key; reporting has: {', '.join(sorted(known))}"))
    if "applies_at" in reporting and (
        problem := _severity_problem(reporting["applies_at"], allow_never=True)
    ):
        problems.append(("reporting.applies_at", problem))
    initial = reporting.get("initial_days", {})
    if not isinstance(initial, dict):
        problems.append(("reporting.initial_days", "must map incident categories to days"))
    else:
        for category, days in initial.items():
            if category not in CATEGORIES:
                problems.append((f"reporting.initial_days.{category}",
                                 f"unknown category; categories: {', '.join(CATEGORIES)}"))
            elif problem := _days_problem(days):
                problems.append((f"reporting.initial_days.{category}", problem))
    for key, minimum in (("follow_up_days", 1), ("final_days_after_resolution", 1),
                         ("remind_days_before", 0)):
        if key in reporting and (problem := _days_problem(reporting[key], minimum=minimum)):
            problems.append((f"reporting.{key}", problem))
    return problems
