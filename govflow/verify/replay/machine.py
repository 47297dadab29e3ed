"""The release state machine, replayed from logged events.

Every rule here mirrors one `govflow.releases.services` (and `oversight.checks`)
enforces when the change is made; the replay holds the log to the same rules, so an
event the operator appended by hand (with a valid log signature) that the services
would have refused is refused here, naming the rule. Pure: no Django, no database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ACTIVE, PAUSED, HALTED, COMPLETED = "active", "paused", "halted", "completed"
# status event: (statuses it may start from, resulting status) — as release_set_status
STATUS_MOVES = {
    "release.paused": ({ACTIVE}, PAUSED),
    "release.resumed": ({PAUSED}, ACTIVE),
    "release.halted": ({ACTIVE, PAUSED, COMPLETED}, HALTED),
}


class Refused(Exception):
    """A logged event the policy's state machine does not allow."""

    def __init__(self, rule: str, message: str):
        super().__init__(f"rule {rule}: {message}")
        self.rule = rule
        self.message = message


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class ReleaseState:
    release: int
    organization: int | None
    policy_digest: str
    stage: str
    status: str
    system_version: int
    manifest_digest: str
    entered_at: datetime
    # The transition that brought the release into its stage (sign-offs name it).
    entry_transition: int
    holds: set[int] = field(default_factory=set)
    title: str = ""


class Policy:
    """The few facts of a policy document the state machine needs."""

    def __init__(self, document: dict[str, Any]):
        self.document = document
        self.stages = [s["name"] for s in document.get("stages", [])]
        self._by_name = {s["name"]: s for s in document.get("stages", [])}

    def stage(self, name: str) -> dict[str, Any] | None:
        return self._by_name.get(name)

    def next_stage(self, name: str) -> str | None:
        if name not in self._by_name:
            return None
        position = self.stages.index(name)
        return self.stages[position + 1] if position + 1 < len(self.stages) else None


def open_release(body: dict[str, Any], policy: Policy) -> ReleaseState:
    payload = body["payload"]
    if payload["stage"] != policy.stages[0]:
        raise Refused("first_stage", f"a release opens at {policy.stages[0]!r}, "
                                     f"not {payload['stage']!r}")
    return ReleaseState(
        release=body["release"], organization=body["organization"],
        policy_digest=payload["policy_digest"], stage=payload["stage"], status=ACTIVE,
        system_version=payload["system_version"], manifest_digest=payload["manifest_digest"],
        entered_at=parse_time(body["at"]), entry_transition=payload["transition"],
        title=payload.get("title", ""),
    )


def check_advance(state: ReleaseState, body: dict[str, Any], policy: Policy) -> None:
    """The moves `release_advance` allows, in the order it checks them."""
    payload = body["payload"]
    if state.status != ACTIVE:
        raise Refused("release_status", f"release {state.release} is {state.status}; only an "
                                        "active release advances")
    if state.holds:
        raise Refused("regulatory_hold", f"release {state.release} is under regulatory hold "
                                         f"{min(state.holds)}, which was not lifted")
    if payload["policy_digest"] != state.policy_digest:
        raise Refused("policy", f"the advance names policy {payload['policy_digest']}, the "
                                f"release was opened under {state.policy_digest}")
    if payload["from"] != state.stage:
        raise Refused("from_stage", f"the advance starts from {payload['from']!r} but the "
                                    f"release is at {state.stage!r}")
    following = policy.next_stage(state.stage)
    if following is None:
        raise Refused("last_stage", f"release {state.release} is already at the last stage")
    if payload["to"] != following:
        raise Refused("one_stage_at_a_time", f"from {state.stage!r} the next stage is "
                                             f"{following!r}, not {payload['to']!r}")


def apply_advance(state: ReleaseState, body: dict[str, Any], policy: Policy) -> None:
    payload = body["payload"]
    state.stage = payload["to"]
    state.entered_at = parse_time(body["at"])
    state.entry_transition = payload["transition"]
    if policy.next_stage(state.stage) is None:
        state.status = COMPLETED


def apply_rollback(state: ReleaseState, body: dict[str, Any], policy: Policy) -> None:
    payload = body["payload"]
    if payload["from"] != state.stage:
        raise Refused("from_stage", f"the rollback starts from {payload['from']!r} but the "
                                    f"release is at {state.stage!r}")
    current = policy.stage(state.stage) or {}
    if current.get("irreversible"):
        raise Refused("irreversible", f"{state.stage} is irreversible: it cannot be rolled back")
    target = payload["to"]
    if target not in policy.stages or policy.stages.index(target) >= policy.stages.index(
        state.stage
    ):
        raise Refused("rollback_target", f"{target!r} is not before {state.stage!r}")
    if state.status == HALTED:
        raise Refused("release_status", f"release {state.release} is halted")
    state.stage = target
    state.entered_at = parse_time(body["at"])
    state.entry_transition = payload["transition"]
    if state.status == COMPLETED:
        state.status = ACTIVE


def apply_status(state: ReleaseState, body: dict[str, Any]) -> None:
    allowed, result = STATUS_MOVES[body["type"]]
    if state.status not in allowed:
        raise Refused("status_move", f"release {state.release} is {state.status}; "
                                     f"{body['type']} is not allowed from there")
    state.status = result


def apply_system_version(state: ReleaseState, body: dict[str, Any]) -> None:
    payload = body["payload"]
    if payload["from_manifest_digest"] != state.manifest_digest:
        raise Refused("system_version", "the change starts from a manifest the release "
                                        "does not have")
    state.system_version = payload["to_version"]
    state.manifest_digest = payload["to_manifest_digest"]


def apply_hold(state: ReleaseState, body: dict[str, Any]) -> None:
    hold = body["payload"]["hold"]
    if body["type"] == "hold.placed":
        state.holds.add(hold)
    elif hold not in state.holds:
        raise Refused("hold_lift", f"hold {hold} is not standing on release {state.release}")
    else:
        state.holds.discard(hold)


class Machine:
    """Every release's state, advanced one logged event at a time."""

    def __init__(self, policies: dict[str, Policy]):
        self.policies = policies
        self.releases: dict[int, ReleaseState] = {}

    def policy_of(self, state: ReleaseState) -> Policy:
        return self.policies[state.policy_digest]

    def state(self, body: dict[str, Any]) -> ReleaseState:
        release = body["release"]
        if release not in self.releases:
            raise Refused("opened_first", f"an event about release {release} before the "
                                          "release was opened")
        return self.releases[release]

    def apply(self, body: dict[str, Any]) -> ReleaseState | None:
        """Apply a lifecycle event (advances are checked by the caller, with their gates,
        then applied with `apply_advance`). Other events are ignored here."""
        kind = body["type"]
        if kind == "release.opened":
            if body["release"] in self.releases:
                raise Refused("opened_once", f"release {body['release']} was opened before")
            digest = body["payload"]["policy_digest"]
            if digest not in self.policies:
                raise Refused("policy", f"its policy {digest} is not in the bundle")
            state = open_release(body, self.policies[digest])
            self.releases[state.release] = state
            return state
        if body.get("release") is None:
            return None
        if kind == "release.rolled_back":
            state = self.state(body)
            apply_rollback(state, body, self.policy_of(state))
        elif kind in STATUS_MOVES:
            state = self.state(body)
            apply_status(state, body)
        elif kind == "release.system_version_changed":
            state = self.state(body)
            apply_system_version(state, body)
        elif kind in ("hold.placed", "hold.lifted"):
            state = self.state(body)
            apply_hold(state, body)
        else:
            return None
        return state
