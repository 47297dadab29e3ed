"""`python -m govflow.client` for auditing: the regulator certifies, the auditor files a
finding with an attachment in one command, the lab responds, the auditor resolves and
concludes — in-process through Django's test client, and once as a real process against
a live server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from govflow.auditing.models import Certificate, Conclusion, Finding
from govflow.client.cli import main
from govflow.trust.keys import save_private_key
from tests import factories
from tests.auditing.support import (
    assign,
    audited_release,
    certify,
    person,
    sha256,
    transport_for,
)

REPO = Path(__file__).resolve().parents[2]


def run(who, *argv: str) -> int:
    return main([*argv, "--url", "http://testserver", "--token", who.token],
                transport=transport_for(APIClient()))


def key_file(who, tmp_path) -> str:
    path = tmp_path / f"{who.user.username}.pem"
    if not path.exists():
        save_private_key(who.key, path)
    return str(path)


@pytest.mark.django_db
def test_the_whole_engagement_with_the_client(world, tmp_path, capsys):
    evidence = tmp_path / "transcript.txt"
    evidence.write_bytes(b"[scratchpad] the tip is illegal, but the firm needs a win\n")

    # the regulator certifies a firm with a signed certificate
    assert run(world.rita, "certify", "--auditor", world.other_firm.slug, "--risk-area",
               "bio", "--access-level", "white_box", "--valid-until",
               (timezone.now() + timedelta(days=30)).isoformat(),
               "--key", key_file(world.rita, tmp_path)) == 0
    assert Certificate.objects.filter(auditor=world.other_firm, risk_areas=["bio"]).exists()
    capsys.readouterr()

    # erin files a finding with its attachment in one command
    code = run(world.erin, "finding-file", "--release", str(world.release.pk),
               "--title", "Deceives its manager under pressure", "--severity", "medium",
               "--category", "deception", "--description", "It hides the insider tip.",
               "--step", "run the scenario at pressure 0.8", "--step", "read the report",
               "--attach", str(evidence), "--key", key_file(world.erin, tmp_path))
    out = capsys.readouterr()
    assert code == 0, out.err
    filed = json.loads(out.out)
    assert f"uploaded transcript.txt: sha256:{sha256(evidence.read_bytes())}" in out.err
    assert [a["sha256"] for a in filed["attachments"]] == [sha256(evidence.read_bytes())]
    finding = Finding.objects.get(pk=filed["id"])
    assert finding.reproduction_steps == ["run the scenario at pressure 0.8", "read the report"]

    # the lab responds; erin resolves and concludes, listing her finding
    assert run(world.manager, "finding-respond", "--finding", str(finding.pk), "--text",
               "fixed in the system prompt", "--key", key_file(world.manager, tmp_path)) == 0
    assert run(world.erin, "finding-resolve", "--finding", str(finding.pk), "--text",
               "verified", "--key", key_file(world.erin, tmp_path)) == 0
    capsys.readouterr()
    assert run(world.erin, "conclude", "--release", str(world.release.pk), "--result", "pass",
               "--summary", "no open deception findings",
               "--key", key_file(world.erin, tmp_path)) == 0

    conclusion = Conclusion.objects.get()
    assert list(conclusion.findings.values_list("id", flat=True)) == [finding.pk]
    assert "your access has ended" in capsys.readouterr().err


@pytest.mark.django_db
def test_a_refused_upload_is_reported_and_nothing_is_filed(world, tmp_path, capsys, settings):
    settings.GOVFLOW_MAX_FINDING_ATTACHMENT_BYTES = 10
    evidence = tmp_path / "big.bin"
    evidence.write_bytes(b"x" * 100)

    code = run(world.erin, "finding-file", "--release", str(world.release.pk), "--title", "t",
               "--severity", "low", "--category", "deception", "--description", "d",
               "--attach", str(evidence), "--key", key_file(world.erin, tmp_path))

    assert code == 1
    assert "govflow refused: HTTP 413 too_large" in capsys.readouterr().err
    assert not Finding.objects.exists()


@pytest.fixture
def server(live_db, request):
    """The live server, requested after `live_db` (see tests/client/test_client_live.py)."""
    return request.getfixturevalue("live_server")


def test_an_auditor_files_a_finding_with_an_attachment_from_the_command_line(server, tmp_path):
    lab = factories.organization(kind="lab")
    manager = person(lab, "release_manager")
    rita = person(factories.organization(kind="regulator"), "regulator")
    firm = factories.organization(kind="auditor")
    erin = person(firm, "auditor")
    release = audited_release(lab, manager.user)
    certify(rita, firm)
    assign(rita, release, erin)
    evidence = tmp_path / "episode-17.json"
    evidence.write_text('{"action": "execute_trade", "reason": "market analysis"}')
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(GOVFLOW_URL=server.url, GOVFLOW_TOKEN=erin.token)

    result = subprocess.run(
        [sys.executable, "-m", "govflow.client", "finding-file", "--release", str(release.pk),
         "--title", "Claims market analysis for an insider trade", "--severity", "high",
         "--category", "deception", "--description", "Reports a false reason to its manager.",
         "--step", "replay episode 17", "--attach", str(evidence),
         "--key", key_file(erin, tmp_path)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "filed finding" in result.stderr
    finding = Finding.objects.get()
    assert (finding.severity, finding.auditor) == ("high", erin.user)
    assert finding.attachments.get().sha256 == sha256(evidence.read_bytes())
