"""What the people of the release journey do, over HTTP and with the client: each helper
acts as a careful user would (a fresh ETag for If-Match, one Idempotency-Key for all the
retries of one decision) and asserts the answer it expects."""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from tests.e2e.stack import REPO, Stack, http

# The demo KYC provider's public, non-production webhook secret (govflow/settings/governance.py).
KYC_SECRET = "demo_kyc-demo-webhook-secret"
# What the shipped default policy's deception gate asks to see covered (every pressure,
# every risk of being caught, scratchpad on and off, no prohibition).
FACTORS = {"pressure": ["none", "moderate", "high"], "risk": ["neutral", "low", "high"],
           "scratchpad": ["on", "off"], "stance": ["none"]}


def wait_for(what: str, probe, timeout: float, stack: Stack, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {value!r})\n"
                         f"{stack.all_logs()}")


class Person:
    def __init__(self, stack: Stack, name: str):
        self.stack, self.name, self.token = stack, name, f"gf_demo_{name}_token"

    def get(self, path: str):
        status, headers, body = http("GET", self.stack.url + "/api" + path, token=self.token)
        assert status == 200, f"{self.name} GET {path}: {status} {body}"
        return body

    def post(self, path: str, body: object = None, *, expect: int | tuple = (200, 201),
             headers: dict[str, str] | None = None):
        status, got, parsed = http("POST", self.stack.url + "/api" + path, token=self.token,
                                   body=body if body is not None else {}, headers=headers)
        expected = expect if isinstance(expect, tuple) else (expect,)
        assert status in expected, f"{self.name} POST {path}: {status} {parsed}"
        return parsed

    def upload(self, path: str, fields: dict[str, str], filename: str, content: bytes):
        boundary = uuid.uuid4().hex
        parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                 .encode() for k, v in fields.items()]
        parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                     f"filename=\"{filename}\"\r\nContent-Type: text/plain\r\n\r\n".encode()
                     + content + b"\r\n")
        data = b"".join(parts) + f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            self.stack.url + "/api" + path, data=data, method="POST",
            headers={"Authorization": f"Bearer {self.token}",
                     "Content-Type": f"multipart/form-data; boundary={boundary}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 201, response.status
            return json.loads(response.read())

    def client(self, *args: str) -> subprocess.CompletedProcess:
        """`python -m govflow.client …` as this person, in a process of its own."""
        env = {k: v for k, v in self.stack.env.items() if k != "DJANGO_SETTINGS_MODULE"}
        env.update(GOVFLOW_URL=self.stack.url, GOVFLOW_TOKEN=self.token)
        result = subprocess.run([sys.executable, "-m", "govflow.client", *args], cwd=REPO,
                                env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{self.name}: client {args[0]}: {result.stderr}"
        return result


def etag_of(person: Person, release_id: int) -> str:
    status, headers, _ = http("GET", f"{person.stack.url}/api/releases/{release_id}",
                              token=person.token)
    assert status == 200
    return headers["ETag"]


def advance(person: Person, release_id: int, **faults) -> dict:
    """POST advance as a careful client does: If-Match from a fresh read, one
    Idempotency-Key for every retry of this one decision (a timeout, a dropped
    connection, a 5xx), until the server answers it."""
    key = str(uuid.uuid4())
    headers = {"If-Match": faults.get("etag") or etag_of(person, release_id),
               "Idempotency-Key": key}
    url = f"{person.stack.url}/api/releases/{release_id}/advance"
    first_timeout = faults.get("first_timeout")
    for attempt in range(20):
        timeout = first_timeout if attempt == 0 and first_timeout else 60
        try:
            status, _, body = http("POST", url, token=person.token, body={}, headers=headers,
                                   timeout=timeout)
        except (TimeoutError, urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
            continue
        if status >= 500:
            time.sleep(0.5)
            continue
        assert status == 200, f"advance of release {release_id}: {status} {body}"
        return body
    raise AssertionError(f"advance of release {release_id} never answered")


def run_evals(alice: Person, rid: int, seed: int, stack: Stack) -> dict:
    run = alice.post(f"/releases/{rid}/eval-runs", {
        "scenario": "insider_trading", "factors": FACTORS, "samples_per_cell": 100,
        "endpoint": "simulator", "judge_endpoint": "simulator", "seed": seed})
    return wait_for("the eval run to complete",
                    lambda: (d := alice.get(f"/eval-runs/{run['id']}"))["status"]
                    == "completed" and d, 300, stack)


def regulator_key(stack: Stack) -> Path:
    """rita's demo key (from `manage.py demo`): she certifies the signers' keys."""
    return Path(stack.env["GOVFLOW_VAR_DIR"]) / "demo-keys" / "rita.pem"


def sign_off(stack: Stack, rid: int, tmp_path: Path, *, restart_web_after_first=False):
    """Two lab signers and a safety officer, each with their own key and the client; the
    regulator certifies each new key (the default policy counts only certified keys),
    by the key id the signer hands her."""
    from govflow.client.signing import key_id, load_key

    for name, role in (("bob", "lab_signer"), ("carol", "lab_signer"),
                       ("dana", "safety_officer")):
        person = Person(stack, name)
        key = tmp_path / f"{name}.pem"
        if not key.exists():
            person.client("keygen", "--out", str(key))
            person.client("register-key", "--key", str(key), "--name", "journey laptop")
            Person(stack, "rita").client(
                "key-certify", "--user", name, "--role", role, "--key-id",
                key_id(load_key(key)), "--key", str(regulator_key(stack)))
        person.client("signoff", "--release", str(rid), "--role", role, "--key", str(key),
                      "--comment", "reviewed the red-team report and the eval run")
        if restart_web_after_first and name == "bob":
            stack.signal("web", signal.SIGTERM)
            stack.start("web")
            stack.wait_http()


def attach(person: Person, rid: int, document_type: str, content: bytes) -> dict:
    return person.upload(f"/releases/{rid}/evidence",
                         {"document_type": document_type,
                          "sha256": hashlib.sha256(content).hexdigest()},
                         f"{document_type}.txt", content)


def kyc_customer(stack: Stack, lab: Person, external_id: str) -> None:
    """The lab registers a customer; the KYC provider's signed webhook verifies them."""
    lab.post("/customers", {"external_id": external_id, "display_name": external_id},
             expect=201)
    now = time.time()
    body = json.dumps({
        "organization": "frontier-lab", "customer": external_id,
        "reference": f"chk-{external_id}", "level": "standard", "status": "verified",
        "evidence_digest": "sha256:" + hashlib.sha256(external_id.encode()).hexdigest(),
        "verified_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
        "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 365 * 86400)),
    }).encode()
    timestamp = int(now)
    mac = hmac.new(KYC_SECRET.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    request = urllib.request.Request(
        f"{stack.url}/api/kyc/webhooks/demo_kyc", data=body, method="POST",
        headers={"Content-Type": "application/json", "X-KYC-Timestamp": str(timestamp),
                 "X-KYC-Signature": "sha256=" + mac.hexdigest()})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 201, response.status


def approve_growth(person: Person, rid: int, up_to: int, role: str, tmp_path: Path) -> None:
    statement = person.get(f"/releases/{rid}/cohorts/limited_rollout/growth-payload"
                           f"?up_to={up_to}&role={role}")
    path = tmp_path / f"growth-{person.name}-{up_to}.json"
    path.write_text(json.dumps(statement))
    envelope = tmp_path / f"growth-{person.name}-{up_to}.envelope.json"
    person.client("sign", "--key", str(tmp_path / f"{person.name}.pem"), "--in", str(path),
                  "--out", str(envelope))
    person.post("/cohort-approvals", {"envelope": json.loads(envelope.read_text())},
                expect=201)


def terminate_backends(stack: Stack, database: str, stop: threading.Event,
                       killed: list[int]) -> None:
    import psycopg

    with psycopg.connect(stack.env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres",
                         autocommit=True) as conn:
        while not stop.is_set():
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()", [database]).fetchall()
            killed.append(len(rows))
            time.sleep(0.01)
