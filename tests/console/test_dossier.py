"""The release dossier: HTML and PDF, the release's access rules, and a checkpoint in it
that verifies."""

from __future__ import annotations

import pytest

from tests import factories

pytestmark = pytest.mark.django_db

SECTIONS = ["1. System and manifest", "2. Stage timeline", "3. Gate decisions",
            "4. Eval results", "5. Findings and auditor conclusions", "6. Sign-offs",
            "7. Holds and incidents", "8. The log checkpoint this dossier was made from"]


def test_the_dossier_is_html_by_default_and_pdf_when_accepted(api, lab, release_manager):
    release = factories.release(lab, release_manager)
    client = api(release_manager)

    html = client.get(f"/api/releases/{release.pk}/dossier")
    pdf = client.get(f"/api/releases/{release.pk}/dossier", HTTP_ACCEPT="application/pdf")

    assert html.status_code == 200
    assert html["Content-Type"].startswith("text/html")
    body = html.content.decode()
    for title in SECTIONS:
        assert title in body
    assert "No checkpoint is signed yet" in body
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")


def test_a_dossier_follows_the_release_access_rules(api, lab, release_manager, outsider):
    release = factories.release(lab, release_manager)

    refused = api(outsider).get(f"/api/releases/{release.pk}/dossier", {"format": "pdf"})
    anonymous = api().get(f"/api/releases/{release.pk}/dossier")

    assert refused.status_code == 404
    assert refused.json() == {"error": "not_found", "message": "Not found."}
    assert anonymous.status_code == 401


def test_the_release_page_links_its_dossier(client_for, lab, release_manager):
    release = factories.release(lab, release_manager)

    page = client_for(release_manager).get(f"/console/releases/{release.pk}/").content.decode()

    assert f'href="/api/releases/{release.pk}/dossier?format=pdf"' in page
