"""`python -m govflow.client` as a separate process against a real HTTP server: the
README's two-person (plus safety officer) sign-off, as the signers would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from govflow.signoffs.models import SignOff
from tests import factories
from tests.signoffs.support import SIGNOFF_POLICY

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(live_db, request):
    """pytest-django's live server, requested only after `live_db`: naming `live_server`
    in the test would make pytest-django set up the database before `live_db` could
    arrange to step around the append-only triggers when the database is flushed."""
    return request.getfixturevalue("live_server")


def run_client(server, token: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(GOVFLOW_URL=server.url, GOVFLOW_TOKEN=token)
    return subprocess.run([sys.executable, "-m", "govflow.client", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)


def test_signers_sign_off_with_the_cli_and_the_release_advances(server, tmp_path):
    # given a lab, its release manager, two lab signers and a safety officer
    lab = factories.organization(kind="lab")
    alice = factories.person(lab, "release_manager")
    people = {name: factories.person(lab, role, username=name) for name, role in
              (("bob", "lab_signer"), ("carol", "lab_signer"), ("dana", "safety_officer"))}
    tokens = {name: factories.token_for(user) for name, user in people.items()}
    release = factories.release(lab, alice, policy_text=SIGNOFF_POLICY)
    factories.attach(release, alice)

    # when each generates and registers a key with the client
    for name in people:
        key = str(tmp_path / f"{name}.pem")
        assert run_client(server, tokens[name], "keygen", "--out", key).returncode == 0
        registered = run_client(server, tokens[name], "register-key", "--key", key,
                                "--name", "laptop")
        assert registered.returncode == 0, registered.stderr

    # and bob signs step by step, carol and dana in one command each
    statement, envelope = tmp_path / "statement.json", tmp_path / "envelope.json"
    steps = [
        ("payload", "--release", str(release.pk), "--role", "lab_signer", "--out",
         str(statement)),
        ("sign", "--key", str(tmp_path / "bob.pem"), "--in", str(statement), "--out",
         str(envelope)),
        ("submit", "--envelope", str(envelope)),
    ]
    for step in steps:
        result = run_client(server, tokens["bob"], *step)
        assert result.returncode == 0, result.stderr
    for name, role in (("carol", "lab_signer"), ("dana", "safety_officer")):
        result = run_client(server, tokens[name], "signoff", "--release", str(release.pk),
                            "--role", role, "--key", str(tmp_path / f"{name}.pem"),
                            "--comment", "reviewed")
        assert result.returncode == 0, result.stderr
        assert "recorded sign-off" in result.stderr
        assert json.loads(result.stdout)["signer"] == name

    # then the sign-offs are stored and the release manager can advance
    assert list(SignOff.objects.order_by("id").values_list("signer__username", flat=True)) == [
        "bob", "carol", "dana"
    ]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.token_for(alice)}")
    release.refresh_from_db()
    advanced = client.post(f"/api/releases/{release.pk}/advance", {}, format="json",
                           HTTP_IF_MATCH=release.etag)
    assert advanced.status_code == 200, advanced.json()

    # and submitting bob's envelope again is refused, clearly, with a non-zero exit
    replay = run_client(server, tokens["bob"], "submit", "--envelope", str(envelope))
    assert replay.returncode == 1
    assert "govflow refused: HTTP 409" in replay.stderr
    assert SignOff.objects.count() == 3
