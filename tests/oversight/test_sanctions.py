"""Sanctions: no release of a lab's systems above a training compute may pass a stage
until a date, enforced by the `no_sanction` gate the default policy puts on every stage."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from govflow.audit.models import AuditEvent
from govflow.oversight.models import Sanction
from govflow.oversight.services import sanction_statement
from govflow.policy.document import load_policy_file
from govflow.policy.services import policy_file_path
from govflow.releases.services import release_open
from govflow.systems.services import system_register
from tests import factories
from tests.oversight.support import SANCTION_POLICY, regulator_with_key, sign

pytestmark = pytest.mark.django_db
_names = itertools.count(1)


def _release(lab, actor, compute):
    model = {"name": "m", "weights_digest": factories.manifest()["model"]["weights_digest"],
             "parameter_count": 1000}
    if compute is not None:
        model["training_compute_flop"] = compute
    version = system_register(organization=lab, name=f"system-{next(_names)}",
                              manifest={**factories.manifest(), "model": model}, actor=actor)
    return release_open(system_version=version, policy_version=factories.policy(SANCTION_POLICY),
                        title="sanctioned release", actor=actor)


def _impose(api, regulator, key, lab, *, stage="internal_evals", above=1e25, days=30):
    statement = sanction_statement(action="impose", lab=lab, reason="ignored the standard",
                                   stage=stage, min_training_compute_flop=above,
                                   until=timezone.now() + timedelta(days=days))
    return api(regulator).post("/api/oversight/sanctions", {"envelope": sign(statement, key)},
                               format="json")


def _gate(api, user, release):
    report = api(user).get(f"/api/releases/{release.pk}/gates").json()
    return next(g for g in report["gates"] if g["kind"] == "no_sanction")


@pytest.mark.parametrize(("compute", "blocked"), [(3e25, True), (1e24, False), (None, True)])
def test_a_sanction_blocks_systems_above_its_compute_and_undeclared_ones(
        api, lab, release_manager, compute, blocked):
    # given a release of a system with the given training compute, and a sanction on its
    # lab forbidding systems above 1e25 FLOP to pass internal evaluation
    release = _release(lab, release_manager, compute)
    regulator, key = regulator_with_key()
    assert _impose(api, regulator, key, lab).status_code == 201

    # when the gate into the next stage is evaluated
    gate = _gate(api, release_manager, release)

    # then it is unmet exactly for systems above the threshold or not declaring compute
    assert gate["met"] is (not blocked)
    assert bool(gate["evidence"]["sanctions"]) is blocked


def test_a_sanction_applies_only_past_its_stage(api, lab, release_manager):
    release = _release(lab, release_manager, 3e25)
    regulator, key = regulator_with_key()
    _impose(api, regulator, key, lab, stage="third_party_audit")

    assert _gate(api, release_manager, release)["met"] is True  # entering third_party_audit


def test_a_sanction_on_one_lab_leaves_another_alone(api, lab, release_manager, outsider):
    from govflow.accounts.selectors import user_organization

    other_release = _release(user_organization(outsider), outsider, 3e25)
    regulator, key = regulator_with_key()
    _impose(api, regulator, key, lab)

    assert _gate(api, outsider, other_release)["met"] is True


def test_lifting_a_sanction_lets_the_release_advance(api, lab, release_manager):
    release = _release(lab, release_manager, 3e25)
    regulator, key = regulator_with_key()
    sanction = Sanction.objects.get(pk=_impose(api, regulator, key, lab).json()["id"])
    statement = sanction_statement(action="lift", lab=lab, reason="complied",
                                   sanction=sanction)
    client = api(regulator)
    before = AuditEvent.objects.count()

    lifted = client.post(f"/api/oversight/sanctions/{sanction.pk}/lift",
                                 {"envelope": sign(statement, key)}, format="json")

    assert lifted.status_code == 200, lifted.json()
    assert list(AuditEvent.objects.order_by("id")[before:].values_list("event_type", flat=True)
                ) == ["sanction.lifted"]
    client = api(release_manager)
    etag = client.get(f"/api/releases/{release.pk}").headers["ETag"]
    assert client.post(f"/api/releases/{release.pk}/advance", {}, format="json",
                       HTTP_IF_MATCH=etag).status_code == 200


def test_an_expired_sanction_no_longer_applies(lab, release_manager):
    from govflow.oversight.selectors import sanctions_in_force

    regulator, key = regulator_with_key()
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.token_for(regulator)}")
    statement = sanction_statement(action="impose", lab=lab, reason="r", stage="internal_evals",
                                   min_training_compute_flop=0.0,
                                   until=timezone.now() + timedelta(days=1))
    assert client.post("/api/oversight/sanctions", {"envelope": sign(statement, key)},
                       format="json").status_code == 201

    assert sanctions_in_force(lab_id=lab.pk, now=timezone.now())
    assert not sanctions_in_force(lab_id=lab.pk, now=timezone.now() + timedelta(days=2))


def test_sanctions_are_visible_to_their_lab_only(api, lab, release_manager, outsider):
    regulator, key = regulator_with_key()
    _impose(api, regulator, key, lab)

    assert len(api(release_manager).get("/api/oversight/sanctions").json()["results"]) == 1
    assert api(outsider).get("/api/oversight/sanctions").json()["results"] == []
    assert len(api(regulator).get("/api/oversight/sanctions").json()["results"]) == 1


def test_a_lab_cannot_sanction(api, lab, release_manager):
    from tests.oversight.support import with_key

    key = with_key(release_manager)
    statement = sanction_statement(action="impose", lab=lab, reason="r", stage="internal_evals",
                                   min_training_compute_flop=0.0,
                                   until=timezone.now() + timedelta(days=1))

    response = api(release_manager).post("/api/oversight/sanctions",
                                         {"envelope": sign(statement, key)}, format="json")

    assert response.status_code == 403
    assert not Sanction.objects.exists()


def test_the_default_policy_checks_sanctions_on_every_stage_it_gates():
    policy = load_policy_file(policy_file_path("default"))

    gated = [s for s in policy.stages[1:]]
    assert gated
    assert all(any(g.kind == "no_sanction" for g in s.gates) for s in gated)
