"""The OpenAPI schema documents the receipt that the write endpoints answer with
(govflow.core.schema.add_receipts): one shared component, the one the receipt endpoint
serves, and it matches what the middleware really adds."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from govflow.core.schema import NO_RECEIPT, RECEIPT_COMPONENT
from govflow.monitoring.services import source_register
from govflow.trust.keys import generate_private_key, public_key_to_pem
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def receipt_of(operation: dict, code: str) -> dict | None:
    schema = operation["responses"][code]["content"]["application/json"]["schema"]
    for part in schema.get("allOf", []):
        if "receipt" in part.get("properties", {}):
            return part["properties"]
    return None


def test_every_write_that_records_documents_the_same_receipt_component(schema):
    writes = [(method, path, op) for path, ops in schema["paths"].items()
              for method, op in ops.items() if method in {"post", "put", "patch", "delete"}]
    assert len(writes) > 40
    for method, path, operation in writes:
        for code, response in operation["responses"].items():
            if not code.startswith("2") or "application/json" not in response.get("content", {}):
                continue
            documented = receipt_of(operation, code)
            if (method, path) in NO_RECEIPT:
                assert documented is None, f"{method} {path} records nothing"
                continue
            assert documented is not None, f"{method.upper()} {path} {code}: no receipt"
            assert documented["receipt"]["allOf"] == [{"$ref": RECEIPT_COMPONENT}]
            assert documented["receipts"]["items"] == {"$ref": RECEIPT_COMPONENT}


def test_the_shared_component_is_the_receipt_endpoints_and_reads_are_untouched(schema):
    receipt_get = schema["paths"]["/api/log/events/{event_id}/receipt"]["get"]
    assert receipt_get["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": RECEIPT_COMPONENT}
    release_get = schema["paths"]["/api/releases/{id}"]["get"]
    assert "allOf" not in release_get["responses"]["200"]["content"]["application/json"][
        "schema"]


def test_the_documented_fields_are_the_ones_a_write_answers_with(schema, lab):
    # given: a write that records an event (a key registration), as its owner
    signer = factories.person(lab, "lab_signer")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.token_for(signer)}")
    body = {"public_key": public_key_to_pem(generate_private_key().public_key()),
            "name": "laptop"}

    # when
    answer = client.post("/api/keys", body, format="json").json()

    # then: the receipt it carries has exactly the documented component's fields
    component = schema["components"]["schemas"]["Receipt"]
    assert set(answer["receipt"]) == set(component["properties"])
    assert receipt_of(schema["paths"]["/api/keys"]["post"], "201") is not None


def test_the_write_documented_without_a_receipt_really_answers_without_one(lab,
                                                                           release_manager):
    # given: a monitoring source of a release
    release = factories.release(lab, release_manager)
    source = source_register(release_id=release.pk, name="abuse", kind="abuse_classifier",
                             actor=release_manager)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.token_for(release_manager)}")

    # when: it beats
    answer = client.post(f"/api/monitoring-sources/{source.pk}/heartbeat")

    # then
    assert answer.status_code == 200, answer.content
    assert "receipt" not in answer.json()
