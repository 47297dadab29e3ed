"""Re-assessment ("audit wherever risk is created"): the policy's `reassessment` section.

    reassessment:
      restart_stage:              # a new system version that adds one of these starts here
        internet_access: internal_evals
        fine_tuning_access: third_party_audit
        tools: third_party_audit  # any added tool
        model: internal_evals     # other weights
        default: internal_evals   # anything added that is not listed
      reachability:               # what an affordance lets the system get to
        internet_access: [code_execution, compute_purchase]
      online_learning:            # periodic re-evaluation of systems that learn online
        every_days: 7
        result_within_days: 2
        from_stage: limited_rollout

Reachability is followed transitively: a system granted internet access is assessed as
one that can also execute code and buy compute (MISSION: contextual vs reachable
capabilities). A version "adds" whatever is in the reachable set of its manifest but not
in that of the version before, so adding internet access to a system that already
executed code adds `internet_access` and `compute_purchase`, not `code_execution`.
Without a `reassessment` section every added affordance sends the release back to the
first stage: the conservative reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from govflow.policy.document import NAME_RE, Policy
from govflow.systems.manifest import AFFORDANCES


@dataclass(frozen=True)
class OnlineLearningRules:
    every_days: int = 7
    result_within_days: int = 2
    from_stage: str | None = None  # None: every stage after the first


@dataclass(frozen=True)
class ReassessmentRules:
    restart_stage: dict[str, str] = field(default_factory=dict)
    reachability: dict[str, tuple[str, ...]] = field(default_factory=dict)
    online_learning: OnlineLearningRules = field(default_factory=OnlineLearningRules)


def reassessment_rules(policy: Policy) -> ReassessmentRules:
    raw = policy.document.get("reassessment") or {}
    online = raw.get("online_learning") or {}
    return ReassessmentRules(
        restart_stage=dict(raw.get("restart_stage") or {}),
        reachability={k: tuple(v) for k, v in (raw.get("reachability") or {}).items()},
        online_learning=OnlineLearningRules(
            every_days=online.get("every_days", 7),
            result_within_days=online.get("result_within_days", 2),
            from_stage=online.get("from_stage"),
        ),
    )


def granted(manifest: dict[str, Any]) -> set[str]:
    return {name for name in AFFORDANCES if manifest.get(name)}


def reachable(names: set[str], reachability: dict[str, tuple[str, ...]]) -> set[str]:
    """``names`` and everything reachable from them, transitively."""
    out = set(names)
    frontier = list(names)
    while frontier:
        for nxt in reachability.get(frontier.pop(), ()):
            if nxt not in out:
                out.add(nxt)
                frontier.append(nxt)
    return out


def required_coverage(system_version, policy: Policy) -> list[str]:
    """The affordances and capabilities an eval gate must cover for this system version:
    those its manifest grants and everything they make reachable under the policy.
    Gates that demand eval coverage (`deception_eval`) apply to this set."""
    rules = reassessment_rules(policy)
    return sorted(reachable(granted(system_version.manifest), rules.reachability))


@dataclass(frozen=True)
class Reassessment:
    added: list[str]  # newly in the reachable set, plus "tool:<name>" and "model"
    newly_reachable: list[str]  # of those, the ones reached rather than granted
    restart_stage: str | None  # earliest stage the additions call for; None: keep the stage
    reasons: dict[str, str]  # added name -> the stage it calls for


def reassess(old: dict[str, Any], new: dict[str, Any], policy: Policy) -> Reassessment:
    rules = reassessment_rules(policy)
    before = reachable(granted(old), rules.reachability)
    after = reachable(granted(new), rules.reachability)
    added = sorted(after - before)
    newly_reachable = sorted(set(added) - granted(new))
    old_tools = set(old.get("tools", []))
    added += [f"tool:{t}" for t in new.get("tools", []) if t not in old_tools]
    if old["model"]["weights_digest"] != new["model"]["weights_digest"]:
        added.append("model")
    first = policy.stages[0].name
    default = rules.restart_stage.get("default", first)
    reasons = {}
    for name in added:
        key = "tools" if name.startswith("tool:") else name
        reasons[name] = rules.restart_stage.get(key, default)
    restart = min(reasons.values(), key=policy.index) if reasons else None
    return Reassessment(added=added, newly_reachable=newly_reachable, restart_stage=restart,
                        reasons=reasons)


# --- validation (govflow.policy.document calls this through SECTIONS) --------------------


def _name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not NAME_RE.match(name):
        return f"{name!r} is not a name (lowercase letters, digits and '_')"
    return None


def check_reassessment(value: Any, stages: list[str]) -> list[tuple[str, str]]:
    if not isinstance(value, dict):
        return [("", "must be a mapping (restart_stage, reachability, online_learning)")]
    problems = []
    known = {"restart_stage", "reachability", "online_learning"}
    for key in sorted(set(value) - known):
        problems.append((key, f"unknown key; reassessment has: {', '.join(sorted(known))}"))
    restart = value.get("restart_stage", {})
    if not isinstance(restart, dict):
        problems.append(("restart_stage", "must map affordances to stages"))
    else:
        for name, stage in restart.items():
            if problem := _name_problem(name):
                problems.append((f"restart_stage.{name}", problem))
            elif stage not in stages:
                problems.append((f"restart_stage.{name}",
                                 f"names stage {stage!r}, which this policy does not have; "
                                 f"stages: {', '.join(stages)}"))
    reach = value.get("reachability", {})
    if not isinstance(reach, dict):
        problems.append(("reachability", "must map an affordance to the list it reaches"))
    else:
        for name, targets in reach.items():
            if problem := _name_problem(name):
                problems.append((f"reachability.{name}", problem))
            elif not isinstance(targets, list) or any(_name_problem(t) for t in targets):
                problems.append((f"reachability.{name}", "must be a list of names"))
    online = value.get("online_learning", {})
    if not isinstance(online, dict):
        problems.append(("online_learning", "must be a mapping"))
        return problems
    known = {"every_days", "result_within_days", "from_stage"}
    for key in sorted(set(online) - known):
        problems.append((f"online_learning.{key}",
                         f"unknown key; online_learning has: {', '.join(sorted(known))}"))
    for key in ("every_days", "result_within_days"):
        days = online.get(key, 1)
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            problems.append((f"online_learning.{key}",
                             f"must be a whole number of days, at least 1, got {days!r}"))
    if "from_stage" in online and online["from_stage"] not in stages:
        problems.append(("online_learning.from_stage",
                         f"names stage {online['from_stage']!r}, which this policy does not "
                         f"have; stages: {', '.join(stages)}"))
    return problems
