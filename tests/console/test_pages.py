"""Console pages: who sees what, 404 for another organization's objects, and the
number of queries a page takes staying flat as the data grows."""

from __future__ import annotations

import base64
import html
import json
import re

import pytest
from django.test import Client

from govflow.audit.log import checkpoint_create
from govflow.console.integrity import latest_checkpoint, leaf_of, leaves_included
from govflow.oversight.models import RegulatoryHold
from govflow.releases.services import release_open
from govflow.trust import dsse
from govflow.trust.intoto import PAYLOAD_TYPE
from govflow.trust.keys import public_key_id
from tests import factories
from tests.oversight.support import regulator_with_key

pytestmark = pytest.mark.django_db


def test_pages_need_a_signed_in_user():
    response = Client().get("/console/")

    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


def test_people_sign_in_with_their_api_account(release_manager):
    client = Client()

    response = client.post("/console/login/", {"username": release_manager.username,
                                               "password": "pw-for-tests-1"})

    assert response.status_code == 302
    assert client.get("/console/").status_code == 200


def test_each_persona_sees_only_the_releases_it_may(client_for, lab, release_manager,
                                                    outsider, regulator):
    own = factories.release(lab, release_manager)
    from govflow.accounts.selectors import user_organization

    theirs = factories.release(user_organization(outsider), outsider)

    lab_page = client_for(release_manager).get("/console/").content.decode()
    regulator_page = client_for(regulator).get("/console/").content.decode()

    assert own.title in lab_page
    assert theirs.title not in lab_page
    assert own.title in regulator_page
    assert theirs.title in regulator_page


def test_another_labs_release_is_a_404(client_for, lab, release_manager, outsider):
    release = factories.release(lab, release_manager)
    client = client_for(outsider)

    assert client.get(f"/console/releases/{release.pk}/").status_code == 404
    assert client.get(f"/console/audit/?release={release.pk}").status_code == 404
    assert client_for(release_manager).get(f"/console/releases/{release.pk}/").status_code == 200


def test_the_list_filters_by_lab_stage_and_status(client_for, lab, release_manager, regulator):
    release = factories.release(lab, release_manager)
    client = client_for(regulator)

    assert release.title in client.get("/console/", {"lab": lab.slug}).content.decode()
    assert release.title not in client.get("/console/", {"lab": "nope"}).content.decode()
    assert release.title not in client.get("/console/", {"stage": "open_weights"}) \
        .content.decode()
    assert release.title in client.get("/console/", {"status": "active"}).content.decode()


def test_the_release_page_shows_the_gate_report_timeline_and_manifest(client_for, lab,
                                                                     release_manager):
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)

    page = client_for(release_manager).get(f"/console/releases/{release.pk}/").content.decode()

    assert re.search(r'entering <span class="stage" title="third_party_audit">[^<]+</span>', page)
    assert "badge ok\">met" in page  # the red-team report is attached
    assert re.search(r'<figure class="chart" aria-label="stage timeline"><svg', page)
    assert "internal_evals" in page
    assert release.system_version.manifest_digest in page
    assert f"/api/evidence/{release.evidence.get().pk}/download" in page


def test_the_audit_trail_proves_each_event_against_the_latest_checkpoint(client_for, lab,
                                                                        release_manager):
    release = factories.release(lab, release_manager)
    checkpoint_create()
    factories.attach(release, release_manager)  # one event newer than the checkpoint

    page = client_for(release_manager).get(f"/console/audit/?release={release.pk}") \
        .content.decode()

    assert page.count("inc-included") == 1  # release.opened
    assert page.count("inc-pending") == 1  # evidence.attached
    assert "python -m govflow.verify govflow-release-" in page


def test_a_leaf_that_is_not_in_the_tree_fails_the_check(lab, release_manager):
    factories.release(lab, release_manager)
    checkpoint_create()
    log = latest_checkpoint()
    from govflow.audit.models import AuditEvent

    event = AuditEvent.objects.select_related("leaf").order_by("id").last()

    assert leaves_included({event.leaf.index: leaf_of(event.canonical)}, log)
    assert not leaves_included({event.leaf.index: leaf_of(event.canonical + " ")}, log)


def test_the_checkpoint_history_checks_consistency(client_for, lab, release_manager):
    factories.release(lab, release_manager)
    checkpoint_create()
    factories.release(lab, release_manager)
    checkpoint_create()

    page = client_for(release_manager).get("/console/checkpoints/").content.decode()

    assert page.count("badge ok\">verified") == 2
    assert page.count("badge ok\">consistent") == 1


def test_a_hold_signed_on_the_sign_page_blocks_an_api_advance(client_for, api, lab,
                                                              release_manager):
    # given a release ready to advance, and a regulator with a key
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    regulator, key = regulator_with_key()
    client = client_for(regulator)

    # when the regulator prepares the hold in the console and signs the payload it shows
    page = client.get("/console/oversight/sign/hold-place/",
                      {"release": release.pk, "reason": "pending review"}).content.decode()
    request = json.loads(html.unescape(re.search(
        r'id="signing-request">(.*?)</script>', page).group(1)))
    payload = base64.b64decode(request["payload"])
    signature = key.sign(dsse.pae(request["payloadType"], payload))
    envelope = {"payload": request["payload"], "payloadType": PAYLOAD_TYPE, "signatures": [
        {"keyid": public_key_id(key.public_key()), "sig": base64.b64encode(signature).decode()}]}
    posted = client.post("/console/oversight/sign/hold-place/",
                         {"release": release.pk, "envelope": json.dumps(envelope)})

    # then the hold stands and the API refuses the advance
    assert posted.status_code == 302, posted.content.decode()[:2000]
    assert RegulatoryHold.objects.get().release_id == release.pk
    rm = api(release_manager)
    etag = rm.get(f"/api/releases/{release.pk}").headers["ETag"]
    refused = rm.post(f"/api/releases/{release.pk}/advance", {}, format="json",
                      HTTP_IF_MATCH=etag)
    assert refused.status_code == 409
    assert refused.json()["error"] == "regulatory_hold"


def _sign_page(client, action: str, params: dict, key) -> dict:
    """What the browser does: sign the payload bytes the sign page prepared."""
    page = client.get(f"/console/oversight/sign/{action}/", params).content.decode()
    request = json.loads(html.unescape(re.search(
        r'id="signing-request">(.*?)</script>', page).group(1)))
    signature = key.sign(dsse.pae(request["payloadType"], base64.b64decode(request["payload"])))
    return {"payload": request["payload"], "payloadType": request["payloadType"],
            "signatures": [{"keyid": public_key_id(key.public_key()),
                            "sig": base64.b64encode(signature).decode()}]}


def test_a_regulator_certifies_an_auditor_firm_on_the_sign_page(client_for):
    from govflow.auditing.models import Certificate

    firm = factories.organization(kind="auditor")
    regulator, key = regulator_with_key()
    client = client_for(regulator)
    params = {"auditor": firm.slug, "risk_areas": "deception, cyber",
              "access_levels": "black_box", "valid_until": "2099-01-01"}

    envelope = _sign_page(client, "certify", params, key)
    posted = client.post("/console/oversight/sign/certify/", {"envelope": json.dumps(envelope)})

    assert posted.status_code == 302, posted.content.decode()[:2000]
    certificate = Certificate.objects.get()
    assert certificate.auditor == firm
    assert sorted(certificate.risk_areas) == ["cyber", "deception"]


def test_a_regulator_sanctions_a_lab_on_the_sign_page(client_for, lab):
    from govflow.oversight.models import Sanction

    regulator, key = regulator_with_key()
    client = client_for(regulator)
    params = {"lab": lab.slug, "stage": "third_party_audit", "until": "2099-01-01",
              "min_training_compute_flop": "1e25", "reason": "ignored the standard"}

    envelope = _sign_page(client, "sanction-impose", params, key)
    posted = client.post("/console/oversight/sign/sanction-impose/",
                         {"envelope": json.dumps(envelope)})

    assert posted.status_code == 302, posted.content.decode()[:2000]
    sanction = Sanction.objects.get()
    assert (sanction.lab, sanction.stage, sanction.min_training_compute_flop) == (
        lab, "third_party_audit", 1e25)
    assert "in force" in client.get("/console/oversight/").content.decode()


def test_a_lab_user_cannot_open_the_regulator_pages(client_for, release_manager):
    client = client_for(release_manager)

    assert client.get("/console/oversight/").status_code == 403
    assert client.get("/console/oversight/sign/hold-place/",
                      {"release": 1, "reason": "x"}).status_code == 403


def test_a_refused_envelope_writes_nothing_and_says_why(client_for, lab, release_manager):
    release = factories.release(lab, release_manager)
    regulator, _ = regulator_with_key()

    response = client_for(regulator).post("/console/oversight/sign/hold-place/",
                                          {"release": release.pk, "envelope": "{}"})

    assert response.status_code == 400
    assert not RegulatoryHold.objects.exists()


# --- query counts ------------------------------------------------------------------------


@pytest.fixture
def many_releases(lab, release_manager):
    """1,000 releases of one lab, each with its events, and a signed checkpoint."""
    version = factories.system_version(lab, release_manager)
    policy = factories.policy()
    releases = [release_open(system_version=version, policy_version=policy, title=f"r{i}",
                             actor=release_manager) for i in range(1000)]
    checkpoint_create()
    return releases


def test_the_release_list_takes_a_flat_number_of_queries(client_for, regulator, many_releases,
                                                         django_assert_max_num_queries):
    client = client_for(regulator)
    client.get("/console/")  # warm the per-checkpoint cache of trail checks

    # cold: the gate engine runs once per release on the page ("next stage · blocked
    # by"), a bounded cost (the page size), then the verdicts are cached. Two of the fixed
    # queries are the log banners every page carries (sequencing alarm, drift).
    with django_assert_max_num_queries(21 + 50):
        cold = client.get("/console/", {"page": 2})
    with django_assert_max_num_queries(19):
        warm = client.get("/console/", {"page": 2})

    assert cold.status_code == warm.status_code == 200
    assert warm.content.decode().count("trail-verified") == 50


def test_the_release_page_takes_a_bounded_number_of_queries(client_for, release_manager,
                                                            many_releases,
                                                            django_assert_max_num_queries):
    client = client_for(release_manager)

    with django_assert_max_num_queries(30):
        response = client.get(f"/console/releases/{many_releases[500].pk}/")

    assert response.status_code == 200


def test_the_audit_trail_takes_a_flat_number_of_queries(client_for, regulator, many_releases,
                                                        django_assert_max_num_queries):
    client = client_for(regulator)

    first = client.get("/console/audit/")
    older = re.search(r'id="older" href="\?before=(\d+)"', first.content.decode())
    second = client.get("/console/audit/", {"before": older.group(1)})
    older = re.search(r'id="older" href="\?before=(\d+)"', second.content.decode())

    with django_assert_max_num_queries(12):  # the third page, by keyset
        response = client.get("/console/audit/", {"before": older.group(1)})

    assert response.status_code == 200
    assert response.content.decode().count("inc-included") == 50
