"""The console in a real browser: Playwright driving Debian's Chromium against a live
server. Screenshots of these pages go to artifacts/screenshots/ (not committed); those of the
console at a glance go to docs/screenshots/ (test_browser_console.py)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from govflow.audit.log import checkpoint_create
from govflow.audit.logkey import log_verifier_key
from govflow.oversight.models import RegulatoryHold
from govflow.oversight.whistleblower import report_message_add
from govflow.verify.bundle import verify_bundle
from tests import factories
from tests.console.conftest import CHROMIUM, open_page, screenshot, wait_for_public_key

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at "
                       "/usr/bin/chromium (apt-get install chromium; make chromium)"),
]


def _page(browser, server, username=None):
    return open_page(browser, server, username)


def _shot(page, name: str) -> None:
    screenshot(page, SHOTS, name)


@pytest.fixture
def world():
    lab = factories.organization(kind="lab", slug="frontier-lab")
    manager = factories.person(lab, "release_manager", username="alice")
    other = factories.organization(kind="lab", slug="other-lab")
    oscar = factories.person(other, "release_manager", username="oscar")
    regulators = factories.organization(kind="regulator", slug="safety-institute")
    rita = factories.person(regulators, "regulator", username="rita")
    release = factories.release(lab, manager)
    factories.attach(release, manager)
    checkpoint_create()
    return {"lab": lab, "alice": manager, "oscar": oscar, "rita": rita, "release": release}


def test_a_regulator_reviews_a_release_and_its_bundle_verifies(browser, server, world, tmp_path):
    release = world["release"]
    page = _page(browser, server, "rita")
    _shot(page, "console-releases")

    page.click(f"text={release.title}")
    page.wait_for_url(re.compile(rf".*/console/releases/{release.pk}/$"))
    assert page.locator("#gates h2").inner_text().startswith("Gate report")
    assert page.locator("table.gates > tbody > tr").count() == 1
    assert "met" in page.locator("table.gates > tbody > tr").first.inner_text()
    assert page.locator("#timeline figure.chart svg").is_visible()
    _shot(page, "console-release")

    with page.expect_download() as download_info:
        page.click("#download-bundle")
    path = tmp_path / "bundle.json"
    download_info.value.save_as(path)
    report = verify_bundle(json.loads(path.read_text()), log_key=log_verifier_key())
    assert report.passed, report.render()

    page.goto(f"{server.url}/console/audit/?release={release.pk}")
    assert page.locator(".inc-included").count() >= 1
    _shot(page, "console-audit")
    page.goto(f"{server.url}/console/checkpoints/")
    _shot(page, "console-checkpoints")


def test_a_lab_user_cannot_see_another_labs_release(browser, server, world):
    page = _page(browser, server, "oscar")

    assert world["release"].title not in page.content()
    response = page.goto(f"{server.url}/console/releases/{world['release'].pk}/")
    assert response.status == 404


def test_a_whistleblower_files_a_report_and_reads_the_reply(browser, server, world):
    page = _page(browser, server)
    page.goto(f"{server.url}/whistleblow/")
    _shot(page, "whistleblower-form")
    page.fill("textarea[name=body]", "The high-pressure eval run was re-run until it passed.")
    page.click("#report-form button[type=submit]")
    code = page.locator("#receipt-code").inner_text().strip()
    assert len(code.replace("-", "")) == 32

    from govflow.oversight.models import WhistleblowerReport

    report = WhistleblowerReport.objects.get()
    report_message_add(report_id=report.pk, body="Thank you; we asked for every run.",
                       actor=world["rita"])

    page.goto(f"{server.url}/whistleblow/receipt/")
    page.fill("input[name=code]", code)
    page.click("#lookup-form button[type=submit]")
    assert "re-run until it passed" in page.locator("#report-body").inner_text()
    assert "we asked for every run" in page.locator("#thread").inner_text()
    _shot(page, "whistleblower-thread")


def _sign_with_python_key(page, key):
    """The fallback when this Chromium lacks WebCrypto Ed25519: sign the statement the
    page shows with a key registered on the server, and upload the envelope."""
    from govflow.trust.intoto import Statement, sign_statement

    statement = json.loads(page.locator("#statement").inner_text())
    return sign_statement(Statement.from_dict(statement), key)


def _browser_key(page, server, user):
    """Make a key in the browser (WebCrypto Ed25519) and register it; None when this
    Chromium lacks Ed25519, then a Python key is registered and returned instead."""
    page.goto(f"{server.url}/console/keys/")
    if page.locator("#browser-keys").is_visible():
        page.click("#generate-key")
        wait_for_public_key(page)
        page.click("#register-key")
        page.wait_for_selector("code.key-id")
        return None
    from tests.oversight.support import with_key

    return with_key(user)


def _sign_and_submit(page, key, tmp_path) -> None:
    """On a sign page: sign in the browser, or (no WebCrypto Ed25519) upload the envelope
    signed with ``key``."""
    page.wait_for_selector("#statement")
    if key is None:
        page.wait_for_selector("#sign-in-browser:enabled")
        page.click("#sign-in-browser")
        return
    envelope = tmp_path / "envelope.json"
    envelope.write_text(json.dumps(_sign_with_python_key(page, key)))
    page.set_input_files("input[name=envelope_file]", str(envelope))
    page.click("#submit-envelope")


def test_a_hold_placed_in_the_browser_blocks_an_api_advance(browser, server, world, tmp_path):
    release, page = world["release"], _page(browser, server, "rita")

    # the regulator makes a key in the browser (WebCrypto Ed25519) and registers it
    key = _browser_key(page, server, world["rita"])

    # then places a hold from the release page, signing the order in the browser
    page.goto(f"{server.url}/console/releases/{release.pk}/")
    page.fill("#place-hold input[name=reason]", "pending review of the eval runs")
    page.click("#place-hold button[type=submit]")
    page.wait_for_selector("#statement")
    _shot(page, "console-sign")
    _sign_and_submit(page, key, tmp_path)
    page.wait_for_url(re.compile(rf".*/console/releases/{release.pk}/$"))
    assert "Regulatory hold" in page.locator(".banner.bad").inner_text()

    hold = RegulatoryHold.objects.get()
    signature = hold.placed_with.envelope["signatures"][0]
    assert base64.b64decode(signature["sig"])  # a real Ed25519 signature was recorded
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.token_for(world['alice'])}")
    etag = client.get(f"/api/releases/{release.pk}").headers["ETag"]
    refused = client.post(f"/api/releases/{release.pk}/advance", {}, format="json",
                          HTTP_IF_MATCH=etag)
    assert refused.status_code == 409
    assert refused.json()["error"] == "regulatory_hold"


def test_a_lab_signer_signs_off_in_the_browser_through_the_same_act(browser, server, world,
                                                                     tmp_path):
    # given a lab signer of the release's lab, with a key made in the browser
    from govflow.signoffs.models import SignOff

    release = world["release"]
    bob = factories.person(world["lab"], "lab_signer", username="bob")
    page = _page(browser, server, "bob")
    key = _browser_key(page, server, bob)

    # when bob signs off the release's next step from its console page
    page.goto(f"{server.url}/console/releases/{release.pk}/")
    page.select_option("#sign-off select[name=role]", "lab_signer")
    page.fill("#sign-off input[name=comment]", "read the eval runs")
    page.click("#sign-off button[type=submit]")
    _sign_and_submit(page, key, tmp_path)
    page.wait_for_url(re.compile(rf".*/console/releases/{release.pk}/$"))

    # then the sign-off is recorded by the kernel, with bob's real signature
    signoff = SignOff.objects.get()
    assert (signoff.signer, signoff.role, signoff.comment) == (bob, "lab_signer",
                                                               "read the eval runs")
    assert base64.b64decode(signoff.envelope["signatures"][0]["sig"])
    assert "Sign-off recorded" in page.content()
