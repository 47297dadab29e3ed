"""Benchmark the offline verifier's replay at 10⁶ events against plain hashlib (prints
figures; not a test). No Django, no database.

    .venv/bin/python bench/verify_replay.py [--events 1000000] [--releases 5000]

Generating a million events through Django and PostgreSQL takes longer than the
benchmark itself (`bench/audit_log.py` section 4 does it that way, for smaller logs), so
this builds a whole-log bundle synthetically, in the exact form `build_bundle` exports,
signed with a fresh test log key: ``--releases`` releases of one system each, every one
taken through a policy whose stages use the gate kinds the verifier re-derives with the
server's decision code (evidence_document, open_findings, cohort with KYC records,
monitoring with a registered source; not deception_eval, whose runs and tallies this
generator does not make, and no incidents: since wave 3 an incident is filed signed or by
a logged machine token and resolved signed, which this unsigned generator does not make),
its gate reports computed by that same code; then filler events up to ``--events``, half
of them about one of the releases, so the log is mostly events the verifier only hashes,
as a real log is. The verifier checks the checkpoint signature, recomputes every leaf and
the whole tree, and replays every decision; the baseline is hashlib computing the same
leaves and nodes over the same bytes, in the same process, alternated with the verifier
(best of ``--rounds``) so that a noisy neighbour slows both alike.
"""

from __future__ import annotations

import argparse
import base64
import gc
import hashlib
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit_log import hashlib_baseline  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from govflow.auditing.decisions import open_findings  # noqa: E402
from govflow.core.times import rfc3339  # noqa: E402
from govflow.gates.report import recompute_evidence_digest  # noqa: E402
from govflow.monitoring.decisions import SourceFacts, monitoring  # noqa: E402
from govflow.policy.yamlsource import load_located  # noqa: E402
from govflow.rollout.cohort_rule import CohortFacts, CohortRules, KycFacts, cohort_gate  # noqa: E402
from govflow.trust import merkle, note  # noqa: E402
from govflow.trust.canonical import canonical_json  # noqa: E402
from govflow.verify.bundle import verify_bundle  # noqa: E402

ORIGIN = "bench.govflow.example/log"
POLICY = """
name: bench
stages:
  - name: internal_evals
  - name: third_party_audit
    gates:
      - kind: evidence_document
        id: red_team_report
        document_type: red_team_report
  - name: limited_rollout
    gates:
      - kind: open_findings
        id: findings_closed
        severity: high
      - kind: cohort
        id: kyc_cohort
        cap: 1000
        kyc_level: standard
  - name: general_availability
    gates:
      - kind: monitoring
        id: live_monitoring
"""
# The parameters each gate was judged with: the policy's, with the kinds' defaults filled
# in, as the server records them.
DEFAULTS = {"open_findings": {"on_critical_return_to": None},
            "cohort": {"step": None, "step_approvals": None, "min_size": 1},
            "monitoring": {"min_sources": 1, "max_heartbeat_age_minutes": 15,
                           "severity": "high"}}
SERVING = {"endpoint": "sim", "model": "bench/model"}  # declared, as a manifest does


class Log:
    def __init__(self) -> None:
        self.rows: list[str] = []
        self.clock = datetime(2026, 1, 1, tzinfo=UTC)

    def append(self, kind: str, payload: dict[str, Any], *, release: int | None = None,
               subject: tuple[str, int] = ("bench", 0), minutes: float = 1) -> dict[str, Any]:
        self.clock += timedelta(minutes=minutes)
        body = {"v": 1, "uuid": str(uuid.uuid4()), "type": kind, "at": rfc3339(self.clock),
                "actor": None, "organization": 1, "release": release,
                "subject": {"type": subject[0], "id": str(subject[1])}, "payload": payload}
        self.rows.append(canonical_json(body).decode())
        return body


def gate(spec: dict[str, Any], met: bool, reason: str, evidence: dict[str, Any]
         ) -> dict[str, Any]:
    params = {k: v for k, v in spec.items() if k not in ("kind", "id", "description")}
    return {"id": spec["id"], "kind": spec["kind"], "description": "",
            "params": {**DEFAULTS.get(spec["kind"], {}), **params}, "met": met,
            "reason": reason, "evidence": evidence, "approval": False}


def advance(log: Log, policy: dict[str, Any], digest: str, release: int, manifest: str,
            frm: str, to: str, gates: list[dict[str, Any]], transition: int) -> None:
    report = {"release": release, "release_version": 1, "system_version": release,
              "manifest_digest": manifest, "policy_digest": digest, "from": frm,
              "target": to, "evaluated_at": rfc3339(log.clock), "all_met": True,
              "gates": gates}
    assert all(g["met"] for g in gates), [g["reason"] for g in gates]
    report["evidence_digest"] = recompute_evidence_digest(report)
    log.append("release.advanced", {"transition": transition, "from": frm, "to": to,
                                    "policy_digest": digest, "gate_report": report},
               release=release)


def one_release(log: Log, policy: dict[str, Any], digest: str, r: int,
                specs: dict[str, dict[str, Any]]) -> None:
    manifest = {"model": {"name": f"bench-{r}", "training_compute_flop": 1e22},
                "serving": SERVING}
    mdigest = "sha256:" + hashlib.sha256(canonical_json(manifest)).hexdigest()
    log.append("system.registered", {"system": r, "version": r, "manifest": manifest,
                                     "manifest_digest": mdigest})
    log.append("release.opened", {"stage": "internal_evals", "policy_digest": digest,
                                  "system_version": r, "manifest_digest": mdigest,
                                  "transition": 4 * r, "title": f"bench {r}"}, release=r)
    doc = {"id": r, "name": "red-team.pdf", "sha256": hashlib.sha256(b"%d" % r).hexdigest()}
    log.append("evidence.attached", {"document_type": "red_team_report", "name": doc["name"],
                                     "sha256": doc["sha256"]}, release=r,
               subject=("releases.evidencedocument", r))
    advance(log, policy, digest, r, mdigest, "internal_evals", "third_party_audit", [
        gate(specs["red_team_report"], True, "", {"documents": [doc]})], 4 * r + 1)
    # The limited rollout: five KYC-checked members.
    members = []
    for c in range(5):
        customer = r * 10 + c
        kyc = KycFacts(provider="demo_kyc", level="standard", status="verified",
                       verified_at=log.clock - timedelta(days=1),
                       expires_at=log.clock + timedelta(days=365))
        log.append("kyc.recorded", {"customer": customer, "provider": kyc.provider,
                                    "level": kyc.level, "status": kyc.status,
                                    "verified_at": rfc3339(kyc.verified_at),
                                    "expires_at": rfc3339(kyc.expires_at)})
        leaf = hashlib.sha256(b"%d" % customer).hexdigest()
        log.append("cohort.member_admitted", {"cohort": r, "stage": "limited_rollout",
                                              "customer": customer, "leaf": leaf,
                                              "size": c + 1, "cap": 1000,
                                              "cohort_version": c + 1}, release=r)
        members.append((leaf, kyc))
    rules = CohortRules(stage="limited_rollout", cap=1000, kyc_level="standard", step=None,
                        step_approvals={})
    cohort = cohort_gate(CohortFacts(id=r, version=5, members=members, approved_up_to=1000),
                         rules, min_size=1, now=log.clock + timedelta(minutes=1))
    advance(log, policy, digest, r, mdigest, "third_party_audit", "limited_rollout", [
        gate(specs["findings_closed"], *open_findings([], "high")),
        gate(specs["kyc_cohort"], *cohort)], 4 * r + 2)
    log.append("monitoring.source_registered", {"source": r, "name": "abuse",
                                                "kind": "classifier"}, release=r)
    watched = monitoring(sources=[SourceFacts(r, "abuse", "classifier", True)],
                         open_incidents=[], params=gate(specs["live_monitoring"], True, "",
                                                        {})["params"])
    advance(log, policy, digest, r, mdigest, "limited_rollout", "general_availability",
            [gate(specs["live_monitoring"], *watched)], 4 * r + 3)


def build(events: int, releases: int) -> tuple[dict[str, Any], str]:
    policy = load_located(POLICY).value
    digest = "sha256:" + hashlib.sha256(canonical_json(policy)).hexdigest()
    specs = {g["id"]: g for s in policy["stages"] for g in s.get("gates", [])}
    log = Log()
    for r in range(1, releases + 1):
        one_release(log, policy, digest, r, specs)
    decisions = len(log.rows)
    for i in range(decisions, events):
        log.append("bench.filled", {"n": i}, release=1 + i % releases if i % 2 else None,
                   minutes=0)
    leaves = [merkle.leaf_hash(row.encode()) for row in log.rows]
    builder = merkle.TreeBuilder()
    builder.extend(leaves)
    key = Ed25519PrivateKey.generate()
    checkpoint = note.Checkpoint(ORIGIN, len(leaves), builder.root())
    vkey = note.make_verifier_key(ORIGIN, key.public_key())
    bundle = {
        "format": "govflow-bundle/v1", "generated_at": rfc3339(log.clock),
        "log": {"origin": ORIGIN, "verifier_key": vkey}, "scope": {"all": True},
        "tree_size": len(leaves),
        "checkpoints": [{"size": len(leaves),
                         "root_hash": base64.b64encode(builder.root()).decode(),
                         "note": note.sign_checkpoint(checkpoint, ORIGIN, key),
                         "cosignatures": []}],
        "consistency": [],
        "events": [{"index": i, "canonical": row, "leaf_hash": leaf.hex()}
                   for i, (row, leaf) in enumerate(zip(log.rows, leaves, strict=True))],
        "policies": [{"digest": digest, "name": "bench", "version": 1, "source": POLICY}],
        "keys": [], "envelopes": [],
    }
    print(f"  {len(leaves):,} events, {decisions:,} of them the decisions and facts of "
          f"{releases:,} releases (3 advances each, every gate re-derived)")
    return bundle, vkey


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--releases", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f}")
    start = time.perf_counter()
    bundle, vkey = build(args.events, args.releases)
    print(f"  built and signed in {time.perf_counter() - start:.1f} s")
    canonicals = [e["canonical"].encode() for e in bundle["events"]]
    # Wall time and this process's CPU time: on a shared machine the CPU figures are the
    # steadier ones (both sides are single-threaded).
    best = {k: float("inf") for k in ("hashlib", "verify", "hashlib_cpu", "verify_cpu")}
    for _ in range(args.rounds):
        gc.collect()
        c0 = time.process_time()
        best["hashlib"] = min(best["hashlib"], hashlib_baseline(canonicals))
        best["hashlib_cpu"] = min(best["hashlib_cpu"], time.process_time() - c0)
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        report = verify_bundle(bundle, log_key=vkey)
        best["verify"] = min(best["verify"], time.perf_counter() - t0)
        best["verify_cpu"] = min(best["verify_cpu"], time.process_time() - c0)
        assert report.passed, report.render()
        assert "taken from the recorded report" not in report.render()
    for unit, h, v in (("wall", "hashlib", "verify"), ("cpu", "hashlib_cpu", "verify_cpu")):
        print(f"  {unit:4}  hashlib leaves+nodes: {best[h]:.2f} s   govflow.verify (replay "
              f"included): {best[v]:.2f} s   ratio {best[v] / best[h]:.2f}x")
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f}")


if __name__ == "__main__":
    main()
