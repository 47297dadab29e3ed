"""The rollout's endpoints: who may see and change what. Another lab's cohort is a 404;
a regulator sees cohorts but no customer; only the lab changes them."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from govflow.client import signing
from govflow.rollout.models import CohortMember, Customer
from tests.rollout.support import customer


def _client(person=None) -> APIClient:
    client = APIClient()
    if person is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {person.token}")
    return client


def _base(world) -> str:
    return f"/api/releases/{world.release.pk}/cohorts/limited_rollout"


def test_the_lab_registers_customers_and_admits_them_over_the_api(world):
    lab = _client(world.manager)
    created = lab.post("/api/customers", {"external_id": "cust-1", "display_name": "Ada"},
                       format="json")
    assert created.status_code == 201
    from tests.rollout.support import verify

    verify(Customer.objects.get(external_id="cust-1"), world.manager.user)
    admitted = lab.post(f"{_base(world)}/members", {"customers": ["cust-1"]}, format="json")
    assert admitted.status_code == 201
    assert admitted.json()[0]["customer"] == "cust-1"
    listed = lab.get(f"{_base(world)}/members").json()
    assert [m["customer"] for m in listed] == ["cust-1"]
    cohorts = lab.get(f"/api/releases/{world.release.pk}/cohorts").json()
    assert cohorts[0]["size"] == 1
    assert cohorts[0]["cap"] == 4
    assert cohorts[0]["approved_up_to"] == 2


def test_refusals_name_their_rule(world):
    for external_id in ("c1", "c2", "c3"):
        customer(world.lab, world.manager.user, external_id)
    lab = _client(world.manager)
    assert lab.post(f"{_base(world)}/members", {"customers": ["c1", "c2"]},
                    format="json").status_code == 201
    refused = lab.post(f"{_base(world)}/members", {"customers": ["c3"]}, format="json")
    assert refused.status_code == 409
    assert refused.json()["rule"] == "growth_not_approved"


def test_growth_is_approved_over_the_api_with_a_signed_statement(world):
    safety = _client(world.safety)
    payload = safety.get(f"{_base(world)}/growth-payload",
                         {"up_to": 4, "role": "safety_officer"})
    assert payload.status_code == 200, payload.json()
    envelope = signing.sign(payload.json(), world.safety.key)
    recorded = safety.post("/api/cohort-approvals", {"envelope": envelope}, format="json")
    assert recorded.status_code == 201
    assert recorded.json()["up_to"] == 4
    cohorts = _client(world.manager).get(f"/api/releases/{world.release.pk}/cohorts").json()
    assert cohorts[0]["approved_up_to"] == 4


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/cohorts"), ("get", "/cohorts/limited_rollout/members"),
    ("post", "/cohorts/limited_rollout/members"),
    ("post", "/cohorts/limited_rollout/members/c1/remove"),
    ("get", "/cohorts/limited_rollout/growth-payload?up_to=4&role=safety_officer"),
    ("get", "/cohorts/limited_rollout/snapshot"),
])
def test_another_labs_release_is_404(world, method, path):
    customer(world.lab, world.manager.user, "c1")
    client, url = _client(world.outsider), f"/api/releases/{world.release.pk}{path}"
    if method == "post":
        response = client.post(url, {"customers": ["c1"], "reason": "x"}, format="json")
    else:
        response = client.get(url)
    assert response.status_code == 404
    assert CohortMember.objects.count() == 0


def test_a_regulator_sees_cohorts_but_no_customers_and_cannot_change_them(world):
    customer(world.lab, world.manager.user, "c1")
    _client(world.manager).post(f"{_base(world)}/members", {"customers": ["c1"]}, format="json")
    regulator = _client(world.regulator)
    assert regulator.get(f"/api/releases/{world.release.pk}/cohorts").json()[0]["size"] == 1
    assert regulator.get(f"{_base(world)}/members").status_code == 404
    assert regulator.get("/api/customers").json()["results"] == []
    assert regulator.post(f"{_base(world)}/members", {"customers": ["c1"]},
                          format="json").status_code == 403


def test_a_lab_signer_cannot_admit_and_nobody_anonymous_can(world):
    customer(world.lab, world.manager.user, "c1")
    signer = _client(world.signer)
    assert signer.post(f"{_base(world)}/members", {"customers": ["c1"]},
                       format="json").status_code == 403
    assert _client().post(f"{_base(world)}/members", {"customers": ["c1"]},
                          format="json").status_code == 401
    assert CohortMember.objects.count() == 0
