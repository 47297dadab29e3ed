"""Checks of the decisions in the log: signed envelopes and stage transitions.

A transition is re-checked against the policy text carried in the bundle (matched by
its digest): the recorded gate report must list exactly the gates of the target stage,
all met, and approval gates (sign-offs) are re-tallied from the logged, verified
sign-off events that precede the transition.
"""

from __future__ import annotations

import hashlib
from typing import Any, cast

from govflow.policy.yamlsource import YamlSyntaxError, load_located
from govflow.trust.canonical import canonical_json
from govflow.verify import signatures
from govflow.verify.log_checks import Event, describe
from govflow.verify.report import Report, VerificationFailed

TRANSITION_EVENTS = {"release.opened", "release.advanced", "release.rolled_back"}


def _policies(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for entry in bundle["policies"]:
        try:
            document = load_located(entry["source"]).value
        except YamlSyntaxError as exc:
            raise VerificationFailed(f"policy {entry.get('digest')} does not parse: {exc}") from exc
        digest = "sha256:" + hashlib.sha256(canonical_json(document)).hexdigest()
        if digest != entry["digest"]:
            raise VerificationFailed(
                f"policy text does not match its digest {entry['digest']} (got {digest})"
            )
        out[digest] = document
    return out


def _stage(document: dict[str, Any], name: str) -> dict[str, Any]:
    for stage in document.get("stages", []):
        if stage.get("name") == name:
            return cast(dict[str, Any], stage)
    raise VerificationFailed(f"the policy has no stage {name!r}")


def check(bundle: dict[str, Any], events: list[Event], report: Report) -> None:
    policies = _policies(bundle)
    signoffs = signatures.check(events, report)
    advances = 0
    # The transition that brought each release into its current stage: sign-offs name
    # it ("stage_entry") so that approvals from before a rollback never count again.
    entry: dict[int, int] = {}
    for event in events:
        if not event.may_be("release."):
            continue
        body = event.body
        if body["type"] in TRANSITION_EVENTS and body["type"] != "release.advanced":
            entry[body["release"]] = body["payload"]["transition"]
        if body["type"] != "release.advanced":
            continue
        payload = body["payload"]
        gate_report = payload["gate_report"]
        document = policies.get(payload["policy_digest"])
        if document is None:
            raise VerificationFailed(
                f"{describe(event)}: its policy {payload['policy_digest']} is not in the bundle"
            )
        stage = _stage(document, payload["to"])
        expected = [(g.get("id", g["kind"]), g["kind"]) for g in stage.get("gates") or []]
        recorded = [(g["id"], g["kind"]) for g in gate_report["gates"]]
        if expected != recorded:
            raise VerificationFailed(
                f"{describe(event)}: the gate report lists {recorded}, "
                f"the policy requires {expected}"
            )
        unmet = [g["id"] for g in gate_report["gates"] if not g["met"]]
        if unmet or not gate_report["all_met"]:
            raise VerificationFailed(f"{describe(event)}: advanced with unmet gates {unmet}")
        signatures.recheck_approvals(event, gate_report, signoffs, entry.get(body["release"]))
        entry[body["release"]] = payload["transition"]
        advances += 1
    report.ok(f"{advances} stage advance(s) re-checked against their policy and sign-offs")
