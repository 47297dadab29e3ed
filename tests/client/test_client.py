"""The client without a server: keys on disk, envelopes other DSSE tools accept, its
dependencies, and how it reports a refusal."""

from __future__ import annotations

import copy
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

from govflow.client import signing
from govflow.client.cli import main
from govflow.trust.keys import load_private_key, public_key_id

REPO = Path(__file__).resolve().parents[2]

STATEMENT = {
    "_type": "https://in-toto.io/Statement/v1",
    "subject": [{"name": "govflow:system/1/v1", "digest": {"sha256": "ab" * 32}}],
    "predicateType": "https://govflow.dev/attestations/signoff/v1",
    "predicate": {"release": 1, "transition": {"from": "a", "to": "b"}, "stage_entry": 1,
                  "gate_report_digest": "sha256:" + "cd" * 32,
                  "policy_digest": "sha256:" + "ef" * 32, "role": "lab_signer",
                  "decision": "approve", "comment": "", "nonce": "n" * 32, "signed_at": None},
}


def test_an_envelope_made_by_the_client_verifies_with_securesystemslib(tmp_path):
    key = signing.keygen(tmp_path / "key.pem")

    envelope = signing.sign(STATEMENT, key)

    keyid = public_key_id(key.public_key())
    theirs = Envelope.from_dict(copy.deepcopy(envelope))
    accepted = theirs.verify([SSlibKey.from_crypto(key.public_key(), keyid=keyid)], threshold=1)
    assert list(accepted) == [keyid]
    assert theirs.payload_type == "application/vnd.in-toto+json"
    signed = json.loads(theirs.pae().split(b" ", 4)[4])
    assert signed["predicate"]["signed_at"].endswith("Z")  # filled in at signing time
    assert STATEMENT["predicate"]["signed_at"] is None  # the caller's copy is untouched


def test_keygen_writes_a_private_key_only_its_owner_can_read(tmp_path, capsys):
    path = tmp_path / "key.pem"

    assert main(["keygen", "--out", str(path)]) == 0

    out = json.loads(capsys.readouterr().out)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert out["key_id"] == public_key_id(load_private_key(path).public_key())


def test_keygen_never_overwrites_a_key(tmp_path, capsys):
    path = tmp_path / "key.pem"
    path.write_text("precious")

    assert main(["keygen", "--out", str(path)]) == 1

    assert "refusing to overwrite" in capsys.readouterr().err
    assert path.read_text() == "precious"


def test_sign_writes_an_envelope_file(tmp_path, capsys):
    signing.keygen(tmp_path / "key.pem")
    (tmp_path / "statement.json").write_text(json.dumps(STATEMENT))

    code = main(["sign", "--key", str(tmp_path / "key.pem"), "--in",
                 str(tmp_path / "statement.json"), "--out", str(tmp_path / "envelope.json")])

    assert code == 0
    assert "signing: approve release 1" in capsys.readouterr().err
    envelope = json.loads((tmp_path / "envelope.json").read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"


def test_a_refusal_is_printed_with_its_reason_and_exits_1(tmp_path, capsys):
    (tmp_path / "envelope.json").write_text("{}")
    sent = []

    def server(method, url, headers, body):
        sent.append((method, url, headers))
        return 409, json.dumps({"error": "conflict", "message": "stale or replayed sign-off",
                                "rule": "stale"}).encode()

    code = main(["submit", "--envelope", str(tmp_path / "envelope.json"), "--token", "t",
                 "--url", "http://govflow.test/"], transport=server)

    assert code == 1
    err = capsys.readouterr().err
    assert "HTTP 409 conflict: stale or replayed sign-off" in err
    assert "(rule: stale)" in err
    [(method, url, headers)] = sent
    assert (method, url) == ("POST", "http://govflow.test/api/signoffs")
    assert headers["Authorization"] == "Bearer t"
    assert len(headers["Idempotency-Key"]) == 36


def test_no_token_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.delenv("GOVFLOW_TOKEN", raising=False)

    code = main(["payload", "--release", "1", "--role", "lab_signer"])

    assert code == 1
    assert "no API token" in capsys.readouterr().err


def test_an_unreachable_server_is_a_clear_error(capsys):
    code = main(["payload", "--release", "1", "--role", "lab_signer", "--token", "t",
                 "--url", "http://127.0.0.1:9", "--timeout", "2"])

    assert code == 1
    assert "cannot reach http://127.0.0.1:9/api/releases/1/signoff-payload" in (
        capsys.readouterr().err
    )


def test_help_documents_every_command():
    result = subprocess.run([sys.executable, "-m", "govflow.client", "--help"], cwd=REPO,
                            capture_output=True, text=True, check=True)

    for command in ("keygen", "register-key", "payload", "sign", "submit", "signoff",
                    "GOVFLOW_URL", "GOVFLOW_TOKEN"):
        assert command in result.stdout


PROBE = """
import json, sys
before = set(sys.modules)
import govflow.client.cli
new = {m.split(".")[0] for m in set(sys.modules) - before}
print(json.dumps(sorted(m for m in new if m not in sys.stdlib_module_names)))
"""


def test_the_client_needs_only_the_standard_library_and_cryptography():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, check=True,
                         capture_output=True, text=True).stdout

    assert set(json.loads(out)) <= {"govflow", "cryptography", "_cffi_backend", "_openssl"}
