"""What a regulator reads at a glance, checked in a real browser (Playwright driving
Debian's Chromium against a live server): the list says what blocks each release and a
held release is not green; the release page lists evidence documents, auditor
assignments and conclusions with their conditions; the charts' markers do not hide one
another; the audit trail opens with one verdict; a missing page is a console page.

The run saves the screenshots under docs/screenshots/ (the README shows one of them), so
they show the console as it is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from govflow.audit.log import checkpoint_create
from govflow.oversight.services import hold_statement
from tests.auditing.conftest import make_world
from tests.auditing.support import conclude, file
from tests.console.conftest import CHROMIUM, open_page, screenshot
from tests.oversight.support import sign, with_key

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at "
                       "/usr/bin/chromium (apt-get install chromium; make chromium)"),
]


def _signed_in(browser, server, username):
    return open_page(browser, server, username)


def _shot(page, name: str) -> None:
    screenshot(page, SHOTS, name)


@pytest.fixture
def audit(live_db, api):
    """A release in third-party audit: erin concluded pass_with_conditions after filing a
    finding; a second release of the lab is held by the regulator."""
    world = make_world()
    finding = file(world.erin, world.release, severity="medium")
    conclude(world.erin, world.assignment, result="pass_with_conditions",
             findings=[finding.pk],
             conditions=["re-run the high-pressure cell before general availability"])
    from tests.auditing.support import audited_release

    held = audited_release(world.lab, world.manager.user)
    held.title = "held release"
    held.save(update_fields=["title"])
    key = with_key(world.rita.user)
    statement = hold_statement(release=held, action="place", reason="pending a review")
    placed = api(world.rita.user).post("/api/oversight/holds",
                                       {"envelope": sign(statement, key)}, format="json")
    assert placed.status_code == 201, placed.json()
    checkpoint_create()
    return world, held, finding


def test_the_list_says_what_blocks_each_release_and_a_held_one_is_not_green(browser, server,
                                                                           audit):
    world, held, _ = audit
    page = _signed_in(browser, server, "rita")

    audited = page.locator("tr", has=page.locator(f"a:text-is('{world.release.title}')"))
    on_hold = page.locator("tr", has=page.locator("a:text-is('held release')"))

    assert "Third party audit" in audited.locator("td").nth(3).inner_text()
    assert "Limited rollout" in audited.locator("td.next").inner_text()
    assert "all gates met" in audited.locator("td.next").inner_text()  # erin concluded
    blockers = on_hold.locator("ul.blockers li").all_inner_texts()
    assert any(b.startswith("third_party_audit needs 1") for b in blockers), blockers
    status = on_hold.locator("span.status")
    assert status.inner_text() == "on hold"
    colour = status.evaluate("e => getComputedStyle(e).color")
    assert colour == "rgb(198, 40, 40)"  # --bad, not the green of --ok (26, 127, 55)
    _shot(page, "console-releases")


def test_the_release_page_lists_documents_assignments_conclusions_and_findings(browser,
                                                                               server, audit):
    world, _, finding = audit
    page = _signed_in(browser, server, "rita")
    page.goto(f"{server.url}/console/releases/{world.release.pk}/")

    documents = page.locator("#documents table tbody tr")
    assert documents.count() == 1
    assert documents.first.locator("a").get_attribute("href").endswith("/download")
    row = page.locator(f"#assignment-{world.assignment.pk}")
    assert "erin" in row.inner_text()
    assert "pass_with_conditions" in row.locator("td.conclusion").inner_text()
    assert "re-run the high-pressure cell" in row.inner_text()
    assert page.locator(f"#finding-{finding.pk}").is_visible()
    # the gate evidence is tables and links, not JSON
    evidence = page.locator("table.gates td.evidence").all_inner_texts()
    assert not any("{" in text for text in evidence)
    assert page.locator("table.gates td.evidence a[href^='#assignment-']").count() >= 1
    _shot(page, "console-release")


def test_timeline_markers_at_one_instant_do_not_hide_each_other(browser, server, audit):
    world, held, _ = audit
    page = _signed_in(browser, server, "rita")
    page.goto(f"{server.url}/console/releases/{held.pk}/")

    # opened, advanced and held within a minute: three markers, three places
    boxes = page.eval_on_selector_all(
        "#timeline svg g[id^=PathCollection] use",
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [Math.round(r.x), Math.round(r.y)]; })")
    assert len(boxes) >= 3
    assert len(set(map(tuple, boxes))) == len(boxes)
    labels = page.locator("#timeline svg text").all_text_contents()
    assert any("time (UTC" in t for t in labels)


def test_the_audit_trail_opens_with_one_verdict(browser, server, audit):
    page = _signed_in(browser, server, "rita")
    page.goto(f"{server.url}/console/audit/")

    verdict = page.locator("p.verdict")
    assert verdict.count() == 1
    assert re.match(r"Verified up to checkpoint \d+ \(signed by the log key\)",
                    verdict.inner_text())
    _shot(page, "console-audit-trail")


def test_a_missing_page_is_a_console_page(browser, server, audit):
    world, _, _ = audit
    page = _signed_in(browser, server, "oscar")

    response = page.goto(f"{server.url}/console/releases/{world.release.pk}/")

    assert response.status == 404
    assert page.locator(".error-page h1").inner_text() == "404 · Not found"
    assert page.locator("header.top nav a:text-is('Releases')").is_visible()
    _shot(page, "console-404")
