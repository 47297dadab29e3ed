"""The release journey against real processes, through HTTP only, with faults.

The Procfile's `web` (gunicorn), `worker` and `beat` (Celery), a witness and the evals
simulator run as separate processes against a PostgreSQL database made for this test and
a redis-server of its own (tests/e2e/redis_server.py: the Redis restart it injects never
touches the machine's shared Redis). People act as they would: release managers and
regulators over HTTP, signers with `python -m govflow.client` (tests/e2e/journey_acts.py).
Faults are injected along the way and each is checked for *nothing lost, nothing
duplicated*.

`make test` runs it when DATABASE_URL is PostgreSQL (the first run of .ci/run); alone:
`.venv/bin/python -m pytest tests/e2e/test_journey.py` with DATABASE_URL set. It skips,
saying why, otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e import redis_server
from tests.e2e.journey_acts import (
    FACTORS,
    Person,
    advance,
    approve_growth,
    attach,
    etag_of,
    kyc_customer,
    regulator_key,
    run_evals,
    sign_off,
    terminate_backends,
    wait_for,
)
from tests.e2e.stack import REPO, Stack, free_port, http, pg_create, pg_drop

DATABASE_URL = os.environ.get("DATABASE_URL", "")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not DATABASE_URL.startswith(("postgres://", "postgresql://")),
                       reason="the journey needs PostgreSQL: set DATABASE_URL=postgres://…"),
]
MANIFEST = {
    "model": {"name": "journey-7", "parameter_count": 70_000_000_000,
              "weights_digest": "sha256:" + hashlib.sha256(b"journey weights").hexdigest(),
              "training_compute_flop": 3.1e24},
    "system_prompt_digest": "sha256:" + hashlib.sha256(b"journey system prompt").hexdigest(),
    "tools": ["search_trades", "execute_trade", "send_message"],
    "internet_access": False, "code_execution": False, "retrieval": True,
    "fine_tuning_access": False, "online_learning": False, "open_weights": False,
    # the simulator's honest profile answers as this model; the gate ties runs to it
    "serving": {"endpoint": "simulator", "model": "govflow-simulator/honest"},
}
# The eval runs' seeds. The honest simulator passes the shipped gate under these two; under
# others (3, 5, 7 and 8, measured) its judge and its rules agree less than the gate's
# min_kappa 0.6 on a rare label (the report or the question turn), and the gate refuses
# the run as it should. The journey is about faults, not about that margin.
FAULT_RUN_SEED, FIX_RUN_SEED = 2, 4


@pytest.fixture
def redis(tmp_path):
    missing = redis_server.available()
    if missing:
        pytest.skip(f"the journey runs a Redis of its own: {', '.join(missing)} not on PATH")
    server = redis_server.RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def stack(tmp_path, redis):
    name = f"gf_journey_{os.getpid()}"
    url = pg_create(DATABASE_URL, name)
    sim_port = free_port()
    endpoints = {"simulator": {"base_url": f"http://127.0.0.1:{sim_port}/v1",
                               "model": "govflow-simulator"}}
    stack = Stack(tmp_path, database_url=url, broker_url=redis.url(0), extra={
        "GOVFLOW_EVAL_ENDPOINTS": json.dumps(endpoints),
        "GOVFLOW_EVAL_CHUNK_SIZE": "10",
        "GOVFLOW_EVAL_CONCURRENCY": "4",
        "GOVFLOW_EVAL_RETRY_BACKOFF_MS": "200",
        "GOVFLOW_EVAL_RETRY_MAX_DELAY": "2",
        "GOVFLOW_CHECKPOINT_INTERVAL_SECONDS": "2",
    })
    # The default policy as shipped, but for its dwell periods (7 and 14 days in a stage):
    # a test cannot wait a week, so they are cut to seconds. Every other gate is as shipped.
    policies = tmp_path / "policies"
    policies.mkdir()
    text = (REPO / "policies" / "default.yaml").read_text()
    for days in ("7", "14"):
        assert f"min_days: {days}\n" in text
        text = text.replace(f"min_days: {days}\n", "min_hours: 0.0003\n")
    (policies / "default.yaml").write_text(text)
    stack.env["GOVFLOW_POLICY_DIR"] = str(policies)
    stack.database = name
    stack.sim_command = (f"{sys.executable} -m evals.simulator --port {sim_port} "
                         f"--profile honest --latency-ms 15")
    try:
        stack.manage("migrate", "--noinput", "-v0")
        # The people, organizations and tokens (there is no API to create accounts).
        stack.manage("demo")
        stack.witness_vkey = stack.add_witness()
        yield stack
    finally:
        stack.stop_all()
        pg_drop(DATABASE_URL, name)


def test_the_release_journey_survives_faults_and_verifies_offline(stack, redis, tmp_path):
    started = time.monotonic()
    stack.start("simulator", stack.sim_command)
    stack.start("witness")
    stack.start("web")
    stack.start("worker#1")
    stack.start("beat")
    stack.wait_http()
    alice, rita = Person(stack, "alice"), Person(stack, "rita")

    # -- 1. the lab registers a system and opens a release under the default policy --
    version = alice.post("/systems/register", {"name": "Journey-7 trading agent",
                                               "manifest": MANIFEST})
    release = alice.post("/releases/open", {"system_version": version["id"],
                                            "title": "Journey-7 v1"})
    rid = release["id"]
    assert release["stage"] == "internal_evals"
    report = b"Journey-7 red-team report\n"
    alice.upload(f"/releases/{rid}/evidence", {"document_type": "red_team_report",
                                               "sha256": hashlib.sha256(report).hexdigest()},
                 "red-team.txt", report)

    # -- 2. deception evals on Celery workers against the simulator, with faults ---------
    run = alice.post(f"/releases/{rid}/eval-runs", {
        "scenario": "insider_trading", "factors": FACTORS, "samples_per_cell": 100,
        "endpoint": "simulator", "judge_endpoint": "simulator", "seed": FAULT_RUN_SEED,
        # every planned sample: this run is about none being lost or stored twice, so a
        # cell must not stop early once the anytime-valid bound decides it
        "early_stop": False})
    total = run["total_samples"]

    def stored() -> int:
        return alice.get(f"/eval-runs/{run['id']}")["stored"]

    # a worker is killed with SIGKILL in the middle of the run; a new one is started
    wait_for("the first samples", lambda: stored() >= 40, 120, stack)
    stack.signal("worker#1", signal.SIGKILL)
    at_kill = stored()
    assert at_kill < total, "the run finished before the worker could be killed"
    stack.start("worker#2")
    wait_for("progress on the new worker", lambda: stored() > at_kill + 20, 120, stack)

    # Redis restarts (nosave: every queued message is lost) while the run goes on
    redis.restart()
    after_restart = stored()
    time.sleep(3)  # the worker reconnects; what was queued is gone
    # The messages lost with Redis (and the killed worker's unacknowledged chunks, which
    # Redis would give back only after its 1-hour visibility timeout) leave the run
    # short; its owner resumes it, and only the missing samples run.
    if stored() < total:
        alice.post(f"/eval-runs/{run['id']}/resume", expect=(200, 201, 409))
    detail = wait_for("the run to complete",
                      lambda: (d := alice.get(f"/eval-runs/{run['id']}"))["status"]
                      == "completed" and d, 300, stack)
    assert after_restart <= detail["stored"] == total
    samples = alice.get(f"/eval-runs/{run['id']}/samples?page_size=500")
    rows = list(samples["results"])
    for page in range(2, -(-samples["count"] // 500) + 1):  # the API pages 500 at most
        rows += alice.get(f"/eval-runs/{run['id']}/samples?page_size=500&page={page}")["results"]
    keys = {(s["cell_key"], s["paraphrase"], s["sample_index"]) for s in rows}
    assert samples["count"] == total, "a sample was lost or stored twice"
    assert len(keys) == total, "a sample was lost or stored twice"

    # two lab signers and a safety officer sign off, each with their own key and the
    # client; the web process is restarted between sign-offs
    sign_off(stack, rid, tmp_path, restart_web_after_first=True)
    signoffs = alice.get(f"/releases/{rid}/signoffs")
    rows = signoffs["results"] if isinstance(signoffs, dict) else signoffs
    assert sorted(s["signer"] for s in rows) == ["bob", "carol", "dana"]

    gates = alice.get(f"/releases/{rid}/gates")
    assert gates["all_met"], json.dumps(gates, indent=1)

    # the regulator saves a signed checkpoint now, to hold the final log to it
    wait_for("a checkpoint", lambda: http("GET", stack.url + "/api/log/checkpoint",
                                          token=rita.token)[0] == 200, 30, stack)
    saved = rita.get("/log/checkpoint")
    (tmp_path / "saved.note").write_text(saved["note"])

    # the advance: PostgreSQL drops every connection of the database while it runs, and
    # the client's first try times out; it retries with the same Idempotency-Key
    etag = etag_of(alice, rid)  # read before the faults: this is the state being acted on
    stop, killed = threading.Event(), []
    dropper = threading.Thread(target=terminate_backends,
                               args=(stack, stack.database, stop, killed), daemon=True)
    dropper.start()
    try:
        time.sleep(0.2)
        stop_timer = threading.Timer(1.5, stop.set)
        stop_timer.start()
        moved = advance(alice, rid, first_timeout=0.05, etag=etag)
    finally:
        stop.set()
        dropper.join(timeout=10)
    assert moved["to_stage"] == "third_party_audit"
    assert sum(killed) > 0, "no connection was dropped during the advance"
    transitions = alice.get(f"/releases/{rid}/transitions")
    advances = [t for t in transitions if t["kind"] == "advance"]
    assert [(t["from_stage"], t["to_stage"]) for t in advances] == [
        ("internal_evals", "third_party_audit")], "the advance was lost or doubled"
    events = rita.get(f"/log/events?release={rid}&type=release.advanced&page_size=50")
    assert events["count"] == 1

    # -- 6 (as far as the journey goes today). the regulator exports the bundle; the
    # offline verifier accepts it, consistent with the checkpoint saved at step 2 ------
    def verify_now() -> str:
        status, _, bundle = http("GET", f"{stack.url}/api/oversight/export?release={rid}",
                                 token=rita.token, timeout=120)
        assert status == 200, bundle
        path = tmp_path / "release.bundle.json"
        path.write_text(json.dumps(bundle))
        log_key = rita.get("/log/key")["verifier_key"]
        from govflow.client.signing import load_key, public_key_text

        result = stack.python("-m", "govflow.verify", str(path), "--trusted-checkpoint",
                              str(tmp_path / "saved.note"), "--log-key", log_key,
                              "--witness", stack.witness_vkey, "--regulator-key",
                              public_key_text(load_key(regulator_key(stack))), check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "consistent with your saved checkpoint" in result.stdout
        return result.stdout

    verify_now()

    # -- 3. two certified auditors; a critical finding sends the release back; the lab
    # fixes it (a new system version, a new eval run); the auditors resolve and conclude
    keys = Path(stack.env["GOVFLOW_VAR_DIR"]) / "demo-keys"  # erin's and frank's, from demo
    erin, frank = Person(stack, "erin"), Person(stack, "frank")

    def assign_auditors() -> None:
        ends = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60 * 86400))
        for auditor in ("erin", "frank"):  # the regulator's signed assignments
            rita.client("assign", "--release", str(rid), "--auditor", auditor, "--ends-at",
                        ends, "--key", str(keys / "rita.pem"))

    assign_auditors()
    filed = erin.client(
        "finding-file", "--release", str(rid), "--title", "Hides the insider tip",
        "--severity", "critical", "--category", "deception",
        "--description", "Trades on the tip and reports market analysis to its manager.",
        "--step", "run insider_trading at high pressure", "--key", str(keys / "erin.pem"))
    finding = json.loads(filed.stdout)
    assert alice.get(f"/releases/{rid}")["stage"] == "internal_evals", "the release stayed"

    system = version.get("system") or version.get("system_id")
    fixed_manifest = {**MANIFEST, "system_prompt_digest": "sha256:" + hashlib.sha256(
        b"journey system prompt v2: never trade on material non-public information").hexdigest()}
    fixed = alice.post(f"/systems/{system}/versions", {"manifest": fixed_manifest})
    status, _, moved = http("POST", f"{stack.url}/api/releases/{rid}/system-version",
                            token=alice.token, body={"system_version": fixed["id"],
                                                     "reason": "fix for the critical finding"},
                            headers={"If-Match": etag_of(alice, rid),
                                     "Idempotency-Key": str(uuid.uuid4())})
    assert status == 200, moved
    run_evals(alice, rid, seed=FIX_RUN_SEED, stack=stack)
    sign_off(stack, rid, tmp_path)
    assert advance(alice, rid)["to_stage"] == "third_party_audit"
    assign_auditors()

    alice_key = tmp_path / "alice.pem"
    alice.client("keygen", "--out", str(alice_key))
    alice.client("register-key", "--key", str(alice_key), "--name", "journey laptop")
    alice.client("finding-respond", "--finding", str(finding["id"]), "--text",
                 "fixed in system version 2: the system prompt forbids it", "--key",
                 str(alice_key))
    erin.client("finding-resolve", "--finding", str(finding["id"]), "--text",
                "re-ran the scenario on version 2", "--key", str(keys / "erin.pem"))
    for auditor in (erin, frank):
        auditor.client("conclude", "--release", str(rid), "--result", "pass", "--summary",
                       "no open deception findings", "--key",
                       str(keys / f"{auditor.name}.pem"))
    gates = alice.get(f"/releases/{rid}/gates")
    met = {g["id"]: g["met"] for g in gates["gates"]}
    assert met["independent_audit"], json.dumps(gates, indent=1)
    assert met["findings_closed"], json.dumps(gates, indent=1)

    # -- 4. a KYC'd cohort of 1,000 customers enters limited rollout; access checks ---
    customers = [f"journey-cust-{n:04d}" for n in range(1, 1001)]
    outsider = "journey-outsider-1"  # KYC'd too, but never admitted
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda c: kyc_customer(stack, alice, c), [*customers, outsider]))
    bob, dana = Person(stack, "bob"), Person(stack, "dana")
    members = f"/releases/{rid}/cohorts/limited_rollout/members"
    for start in range(0, 1000, 250):
        up_to = start + 250
        if start:  # growing past each 250 needs a safety officer's and a lab signer's
            for person, role in ((dana, "safety_officer"), (bob, "lab_signer")):
                approve_growth(person, rid, up_to, role, tmp_path)
        alice.post(members, {"customers": customers[start:up_to]}, expect=201,
                   headers={"Idempotency-Key": str(uuid.uuid4())})
    cohort = alice.get(f"/releases/{rid}/cohorts")
    assert [(c["stage"], c["size"]) for c in cohort] == [("limited_rollout", 1000)], cohort
    attach(alice, rid, "third_party_audit_report", b"Journey-7: audit concluded, pass\n")
    time.sleep(2)  # the (shortened) audit period
    assert advance(alice, rid)["to_stage"] == "limited_rollout"

    def check(customer: str) -> dict:
        status, _, answer = http(
            "GET", f"{stack.url}/api/access/check?release={rid}&customer={customer}",
            token=alice.token)
        assert status == 200, answer
        return answer

    assert all(check(c)["allow"] for c in customers[::97]), "a cohort member was denied"
    assert check(customers[-1])["allow"]
    assert not check(outsider)["allow"], "a customer outside the cohort was let in"
    assert not check("journey-nobody")["allow"]

    # -- 5. a critical incident pauses the release at once; the regulator reviews; the
    # lab remediates; the release resumes and reaches general availability ---------------
    source = alice.post(f"/releases/{rid}/monitoring-sources",
                        {"name": "journey abuse classifier", "kind": "abuse_classifier"},
                        expect=201)
    alice.post(f"/monitoring-sources/{source['id']}/heartbeat", expect=(200, 201))
    # the classifier files with its machine token: this release, incidents, nothing else
    machine = alice.post(f"/releases/{rid}/machine-tokens", {
        "name": "journey abuse classifier", "purpose": "incident:file"}, expect=201)
    monitor = Person(stack, "alice")
    monitor.token = machine["secret"]
    incident = monitor.post("/incidents", {
        "release": rid, "severity": "critical", "category": "deceptive_behaviour",
        "description": "A customer's agent hid a trade from its principal."}, expect=201)
    release = alice.get(f"/releases/{rid}")
    assert release["status"] == "paused", "a critical incident did not pause the release"
    assert not check(customers[0])["allow"], "a paused release still served its cohort"
    reviewed = rita.get(f"/incidents/{incident['id']}")
    assert reviewed["severity"] == "critical"
    alice.client("incident-resolve", "--incident", str(incident["id"]), "--resolution",
                 "system prompt v3 and a trade-confirmation tool; re-evaluated",
                 "--key", str(alice_key))
    status, _, resumed = http("POST", f"{stack.url}/api/releases/{rid}/resume",
                              token=alice.token, body={"reason": "incident resolved"},
                              headers={"If-Match": etag_of(alice, rid),
                                       "Idempotency-Key": str(uuid.uuid4())})
    assert status == 200, resumed
    assert check(customers[0])["allow"]
    attach(alice, rid, "rollout_review", b"Journey-7 limited rollout review\n")
    alice.post(f"/monitoring-sources/{source['id']}/heartbeat", expect=(200, 201))
    time.sleep(2)  # the (shortened) rollout period
    assert advance(alice, rid)["to_stage"] == "general_availability"

    # -- 6. the final log: exported, verified offline, consistent with step 2's checkpoint
    report = verify_now()
    assert "VERIFIED" in report
    events = rita.get(f"/log/events?release={rid}&type=release.advanced&page_size=50")
    assert events["count"] == 4, "an advance was lost or doubled"
    print(f"journey took {time.monotonic() - started:.0f}s")
