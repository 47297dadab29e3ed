"""Regulatory holds: a signed order that stops every advance of a release until lifted."""

from __future__ import annotations

import pytest

from govflow.audit.models import AuditEvent
from govflow.oversight.models import RegulatoryHold, SignedAction
from govflow.oversight.services import hold_statement
from govflow.releases.models import Release
from tests import factories
from tests.oversight.support import regulator_with_key, sign, with_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready_release(lab, release_manager):
    """A release whose next gate (a red-team report) is met."""
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    return release


def _advance(api, user, release):
    client = api(user)
    etag = client.get(f"/api/releases/{release.pk}").headers["ETag"]
    return client.post(f"/api/releases/{release.pk}/advance", {}, format="json",
                       HTTP_IF_MATCH=etag)


def _place(api, regulator, key, release, reason="pending review of a finding"):
    statement = hold_statement(release=release, action="place", reason=reason)
    return api(regulator).post("/api/oversight/holds", {"envelope": sign(statement, key)},
                               format="json")


def _lift(api, regulator, key, hold_id, release, reason="review done"):
    hold = RegulatoryHold.objects.get(pk=hold_id)
    statement = hold_statement(release=release, action="lift", reason=reason, hold=hold)
    return api(regulator).post(f"/api/oversight/holds/{hold_id}/lift",
                               {"envelope": sign(statement, key)}, format="json")


def test_a_standing_hold_refuses_an_advance_whose_gates_are_met(api, ready_release,
                                                                release_manager):
    # given a regulator's signed hold on a release that could otherwise advance
    regulator, key = regulator_with_key()
    placed = _place(api, regulator, key, ready_release)
    assert placed.status_code == 201, placed.json()

    # when the release manager asks to advance
    refused = _advance(api, release_manager, ready_release)

    # then it is refused, naming the hold, and nothing moved
    assert refused.status_code == 409
    assert refused.json()["error"] == "regulatory_hold"
    assert refused.json()["hold"] == placed.json()["id"]
    ready_release.refresh_from_db()
    assert ready_release.stage == "internal_evals"


def test_lifting_the_hold_lets_the_release_advance(api, ready_release, release_manager):
    regulator, key = regulator_with_key()
    hold_id = _place(api, regulator, key, ready_release).json()["id"]

    lifted = _lift(api, regulator, key, hold_id, ready_release)

    assert lifted.status_code == 200, lifted.json()
    assert lifted.json()["in_force"] is False
    assert _advance(api, release_manager, ready_release).status_code == 200


def test_placing_and_lifting_write_one_event_each_carrying_the_envelope(api, ready_release):
    regulator, key = regulator_with_key()
    before = AuditEvent.objects.count()

    hold_id = _place(api, regulator, key, ready_release).json()["id"]
    _lift(api, regulator, key, hold_id, ready_release)

    events = list(AuditEvent.objects.exclude(event_type="token.issued").order_by("id")[before:])
    assert [e.event_type for e in events] == ["hold.placed", "hold.lifted"]
    placed = events[0]
    assert placed.release_id == ready_release.pk
    assert placed.organization_id == ready_release.organization_id  # the lab sees it
    assert placed.payload["hold"] == hold_id
    assert placed.payload["envelope"]["signatures"][0]["keyid"] == placed.payload["key_id"]
    assert SignedAction.objects.count() == 2


def test_a_hold_on_one_release_does_not_stop_another(api, lab, release_manager, ready_release):
    other = factories.release(lab, release_manager)
    factories.attach(other, release_manager)
    regulator, key = regulator_with_key()
    _place(api, regulator, key, ready_release)

    assert _advance(api, release_manager, other).status_code == 200


def test_only_regulators_place_holds(api, ready_release, release_manager):
    key = with_key(release_manager)
    statement = hold_statement(release=ready_release, action="place", reason="mine")

    response = api(release_manager).post("/api/oversight/holds",
                                         {"envelope": sign(statement, key)}, format="json")

    assert response.status_code == 403
    assert not RegulatoryHold.objects.exists()


@pytest.mark.parametrize(
    ("case", "status", "rule"),
    [("replayed", 409, "replayed"), ("second_hold", 409, "hold_standing"),
     ("foreign_key", 403, "foreign_key"), ("tampered", 400, "bad_signature")],
)
def test_refused_holds_write_nothing(api, ready_release, case, status, rule):
    regulator, key = regulator_with_key()
    envelope = sign(hold_statement(release=ready_release, action="place", reason="r"), key)
    if case in ("replayed", "second_hold"):
        assert api(regulator).post("/api/oversight/holds", {"envelope": envelope},
                                   format="json").status_code == 201
        if case == "second_hold":
            envelope = sign(hold_statement(release=ready_release, action="place",
                                           reason="again"), key)
    elif case == "foreign_key":
        other, other_key = regulator_with_key()
        envelope = sign(hold_statement(release=ready_release, action="place", reason="r"),
                        other_key)
    elif case == "tampered":
        envelope["payload"] = sign(hold_statement(release=ready_release, action="place",
                                                  reason="other"), key)["payload"]
    client = api(regulator)
    holds, events = RegulatoryHold.objects.count(), AuditEvent.objects.count()

    response = client.post("/api/oversight/holds", {"envelope": envelope},
                                   format="json")

    assert response.status_code == status, response.json()
    assert response.json().get("rule") == rule
    assert (RegulatoryHold.objects.count(), AuditEvent.objects.count()) == (holds, events)


def test_a_lift_must_name_the_hold_it_lifts(api, lab, release_manager, ready_release):
    regulator, key = regulator_with_key()
    first = _place(api, regulator, key, ready_release).json()["id"]
    other_release = factories.release(lab, release_manager)
    second = _place(api, regulator, key, other_release).json()["id"]
    statement = hold_statement(release=ready_release, action="lift", reason="r",
                               hold=RegulatoryHold.objects.get(pk=first))

    response = api(regulator).post(f"/api/oversight/holds/{second}/lift",
                                   {"envelope": sign(statement, key)}, format="json")

    assert response.status_code == 409
    assert response.json()["rule"] == "wrong_hold"
    assert RegulatoryHold.objects.filter(lifted_at__isnull=True).count() == 2


def test_holds_are_visible_to_the_lab_and_not_to_another(api, ready_release, release_manager,
                                                         outsider):
    regulator, key = regulator_with_key()
    _place(api, regulator, key, ready_release)

    own = api(release_manager).get("/api/oversight/holds").json()
    other = api(outsider).get("/api/oversight/holds").json()

    assert [h["release"] for h in own["results"]] == [ready_release.pk]
    assert other["results"] == []


def test_the_payload_endpoint_gives_the_statement_to_sign(api, ready_release):
    regulator, _ = regulator_with_key()

    response = api(regulator).get("/api/oversight/holds/payload",
                                  {"release": ready_release.pk, "reason": "look"})

    assert response.status_code == 200
    predicate = response.json()["predicate"]
    assert (predicate["action"], predicate["release"], predicate["reason"]) == (
        "place", ready_release.pk, "look")
    assert Release.objects.get(pk=ready_release.pk).version == ready_release.version
