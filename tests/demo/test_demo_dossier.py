"""The release dossier of the demo's release in audit: a PDF with every section, whose
checkpoint verifies and against which the release's bundle verifies offline."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from govflow.audit.export import build_bundle
from govflow.audit.logkey import log_origin
from govflow.audit.models import Checkpoint
from govflow.console.integrity import verifier_key
from govflow.demo.build import IN_AUDIT_TITLE, demo_public_key
from govflow.releases.models import Release
from govflow.verify.bundle import verify_bundle
from govflow.verify.log_checks import open_checkpoint
from tests.console.test_dossier import SECTIONS

pytestmark = pytest.mark.django_db


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_demo_release_1_dossier_is_a_pdf_whose_checkpoint_verifies(demo, api):
    pdfium = pytest.importorskip("pypdfium2")
    # given the demo world (release 1 in its third-party audit, a signed checkpoint)
    release = Release.objects.get(title=IN_AUDIT_TITLE)
    rita = get_user_model().objects.get(username="rita")

    # when the regulator asks for its dossier as a PDF
    response = api(rita).get(f"/api/releases/{release.pk}/dossier", {"format": "pdf"})

    # then it is a PDF of several pages, each drawn (not blank), with every section
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = pdfium.PdfDocument(response.content)
    assert len(pdf) >= 4
    pages = [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    text = "\n".join(pages)
    positions = [text.find(title) for title in SECTIONS]
    assert -1 not in positions, [t for t, p in zip(SECTIONS, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    image = pdf[0].render(scale=1).to_pil().convert("L")
    dark = sum(1 for value in image.getdata() if value < 128)
    assert dark > 2000  # text and tables, not an empty page
    for expected in ["Frontier-7 trading agent v1", "Third-party audit", "internal_signoff",
                     "red-team-report.txt", "P(all three)", "erin", "bob", "Regulatory holds"]:
        assert expected in text, expected

    # and the checkpoint it names is in it byte for byte, verifies under the log key, and
    # the release's bundle verifies against it offline
    size = int(re.search(r"Checkpoint (\d+) \(tree size", text).group(1))
    checkpoint = Checkpoint.objects.get(size=size)
    assert _squash(checkpoint.note) in _squash(text)
    assert open_checkpoint(checkpoint.note, verifier_key(), log_origin()) == (
        size, bytes(checkpoint.root_hash))
    assert bytes(checkpoint.root_hash).hex() in _squash(text)
    # (the demo's policy counts only regulator-certified signer keys: pin rita's key)
    report = verify_bundle(build_bundle(release=release), log_key=verifier_key(),
                           regulator_keys=[demo_public_key("rita")],
                           trusted_checkpoints=[checkpoint.note])
    assert report.passed, report.render()
    assert f"govflow-release-{release.pk}.bundle.json" in text
