"""Where a release stands, at a glance: stage names, a status that says what stops it,
the next stage and the gates that block it; the audit trail's verdict; error pages."""

from __future__ import annotations

import re

import pytest

from govflow.audit.log import checkpoint_create
from govflow.console.integrity import LogView
from govflow.console.standing import release_standings
from govflow.console.trail import trail_verdict
from govflow.oversight.services import hold_statement
from tests import factories
from tests.oversight.support import regulator_with_key, sign

pytestmark = pytest.mark.django_db


def _row(page: str, title: str) -> str:
    match = re.search(r"<tr>\s*<td><a [^>]*>" + re.escape(title) + r"</a>.*?</tr>", page,
                      re.S)
    assert match, f"no row for {title!r}"
    return match.group(0)


def test_the_list_names_the_stage_and_the_gates_that_block_the_next(client_for, lab,
                                                                    release_manager):
    # given a release without the red-team report its next stage needs
    release = factories.release(lab, release_manager)

    # when its lab opens the list
    row = _row(client_for(release_manager).get("/console/").content.decode(), release.title)

    # then the row names the stage in words, the next stage, and the blocking gate
    assert '<span class="stage" title="internal_evals">Internal evals</span>' in row
    assert 'title="third_party_audit">Third party audit</span>' in row
    assert "<code>evidence_document</code> needs 1 red_team_report document(s)" in row
    assert 'data-status="active"' in row
    assert "tone-warn" in row


def test_a_release_whose_gates_are_met_reads_ready(client_for, lab, release_manager):
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)

    row = _row(client_for(release_manager).get("/console/").content.decode(), release.title)

    assert "all gates met" in row
    assert "tone-ok" in row
    assert "active · ready" in row


def test_a_held_release_is_not_shown_as_active_or_green(api, client_for, lab,
                                                        release_manager):
    # given a release whose gates are met, then held by the regulator
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    regulator, key = regulator_with_key()
    statement = hold_statement(release=release, action="place", reason="pending review")
    placed = api(regulator).post("/api/oversight/holds", {"envelope": sign(statement, key)},
                                 format="json")
    assert placed.status_code == 201, placed.json()

    # when the regulator opens the list and the release page
    row = _row(client_for(regulator).get("/console/").content.decode(), release.title)
    page = client_for(regulator).get(f"/console/releases/{release.pk}/").content.decode()

    # then both say "on hold" in red, never "active" in green
    assert 'data-status="on_hold"' in row
    assert "tone-bad" in row
    assert "tone-ok" not in row
    assert re.search(r'class="status tone-bad" data-status="on_hold">on hold<', page)


def test_the_verdict_of_a_page_of_blockers_is_cached_on_the_evidence(lab, release_manager,
                                                                     django_assert_num_queries):
    release = factories.release(lab, release_manager)
    first = release_standings([release], {})[release.pk]
    assert [b.gate for b in first.blockers] == ["evidence_document"]

    # new evidence writes an audit event: the cached verdict no longer applies
    factories.attach(release, release_manager)
    release.refresh_from_db()
    second = release_standings([release], {})[release.pk]

    assert second.blockers == []
    assert second.ready


def test_the_audit_trail_opens_with_one_verdict(client_for, lab, release_manager):
    release = factories.release(lab, release_manager)
    checkpoint = checkpoint_create()
    factories.attach(release, release_manager)

    page = client_for(release_manager).get(f"/console/audit/?release={release.pk}") \
        .content.decode()

    verdicts = re.findall(r'<p class="verdict (\w+)" id="verdict">([^<]+)</p>', page)
    assert len(verdicts) == 1
    tone, text = verdicts[0]
    assert tone == "warn"
    assert text.startswith(f"Verified up to checkpoint {checkpoint.size} (signed by the log "
                           "key), not witnessed")
    assert "1 newer event(s) await the next checkpoint" in text


def test_the_verdict_names_its_witnesses_and_fails_on_a_bad_event():
    log = LogView(size=10, root=b"\x01" * 32)

    witnessed = trail_verdict(log, {1: "included"}, witnesses=["witness.example"])
    tampered = trail_verdict(log, {1: "included", 2: "not_included"})
    unsigned = trail_verdict(LogView(10, None, "bad signature"), {1: "included"})

    assert witnessed["tone"] == "ok"
    assert "witnessed by witness.example" in witnessed["text"]
    assert tampered["tone"] == "bad"
    assert "1 event(s) on this page differ" in tampered["text"]
    assert unsigned["tone"] == "bad"
    assert "bad signature" in unsigned["text"]


@pytest.mark.parametrize("debug", [True, False])
def test_a_missing_console_page_is_a_console_page_not_the_debug_listing(
        client_for, settings, release_manager, outsider, lab, debug):
    settings.DEBUG = debug
    release = factories.release(lab, release_manager)
    client = client_for(outsider)

    for url in ["/console/no-such-page/", f"/console/releases/{release.pk}/"]:
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code == 404
        assert 'class="error-page" data-status="404"' in body
        assert "govflow oversight console" in body
        assert "URLconf" not in body
        assert "console/releases/&lt;int:pk&gt;" not in body


def test_an_api_404_stays_json(client_for, release_manager, outsider, lab):
    release = factories.release(lab, release_manager)

    response = client_for(outsider).get(f"/api/releases/{release.pk}")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
