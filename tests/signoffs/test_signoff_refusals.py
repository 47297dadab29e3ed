"""Sign-offs the server refuses: each with a clear 4xx naming the rule, and nothing
recorded (no sign-off row, no audit event)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from govflow.client import signing
from govflow.client import signoffs as client
from govflow.client.remote import ApiError, ClientError
from govflow.keys.services import key_register, key_revoke
from govflow.trust.keys import generate_private_key, public_key_to_base64
from tests import factories
from tests.signoffs.support import SIGNOFF_POLICY, api_for, recorded, signer

pytestmark = pytest.mark.django_db


def submit(who, envelope) -> tuple[int, dict]:
    """POST the envelope with the client's Api of a signer (its token already exists, so
    the request itself adds no audit event)."""
    api = who.api if hasattr(who, "api") else who
    try:
        return 201, client.submit(api, envelope)
    except ApiError as exc:
        return exc.status, exc.body


def refused(response, status: int, rule: str | None = None) -> dict:
    code, body = response
    assert code == status, body
    if rule is not None:
        assert body.get("rule") == rule, body
    return body


def test_a_replayed_envelope_is_refused(release, crew):
    bob = crew["bob"]
    envelope = bob.envelope(release, "lab_signer")
    assert submit(bob, envelope)[0] == 201
    before = recorded()

    body = refused(submit(bob, envelope), 409, "replayed")

    assert "nonce was already used" in body["message"]
    assert recorded() == before


def test_an_envelope_for_another_release_is_refused(lab, release_manager, release, crew):
    # given bob fetched a statement for one release and re-targets it at another one
    other = factories.release(lab, release_manager, policy_text=SIGNOFF_POLICY)
    factories.attach(other, release_manager)
    statement = client.fetch_payload(crew["bob"].api, release=release.pk, role="lab_signer")
    statement["predicate"]["release"] = other.pk
    before = recorded()

    body = refused(submit(crew["bob"], signing.sign(statement, crew["bob"].key)),
                   409, "stale")

    assert body["message"].startswith("stale or replayed sign-off")
    assert recorded() == before


def test_a_statement_changed_after_signing_is_refused(release, crew):
    envelope = crew["bob"].envelope(release, "lab_signer")
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["decision"] = "reject"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    before = recorded()

    body = refused(submit(crew["bob"], envelope), 400, "bad_signature")

    assert "does not verify" in body["message"]
    assert recorded() == before


def test_a_statement_made_before_new_evidence_is_refused(release_manager, release, crew):
    envelope = crew["bob"].envelope(release, "lab_signer")
    factories.attach(release, release_manager, body=b"another red-team report")
    before = recorded()

    body = refused(submit(crew["bob"], envelope), 409, "stale")

    assert body["field"] == "gate_report_digest"
    assert recorded() == before


def test_a_statement_made_before_a_rollback_is_refused(api, release_manager, release, crew):
    # given bob signed a second statement in the first round and kept it
    kept = crew["bob"].envelope(release, "lab_signer")
    for name, role in (("bob", "lab_signer"), ("carol", "lab_signer"), ("dana", "safety_officer")):
        crew[name].signoff(release, role)
    release.refresh_from_db()
    client_ = api(release_manager)
    assert client_.post(f"/api/releases/{release.pk}/advance", {}, format="json",
                        HTTP_IF_MATCH=release.etag).status_code == 200
    release.refresh_from_db()
    assert client_.post(f"/api/releases/{release.pk}/rollback",
                        {"target": "internal_evals", "reason": "regression"}, format="json",
                        HTTP_IF_MATCH=release.etag).status_code == 200
    before = recorded()

    # when he submits it in the new round (same transition, same evidence)
    body = refused(submit(crew["bob"], kept), 409, "stale")

    assert body["field"] == "stage_entry"
    assert recorded() == before


def test_a_role_the_signer_does_not_hold_is_refused(release, crew):
    before = recorded()

    body = refused(submit(crew["bob"], _forged_role(crew["bob"], release)), 403, "role")

    assert "you do not hold the role 'safety_officer'" in body["message"]
    assert recorded() == before


def _forged_role(bob, release):
    statement = client.fetch_payload(bob.api, release=release.pk, role="lab_signer")
    statement["predicate"]["role"] = "safety_officer"
    return signing.sign(statement, bob.key)


def test_asking_for_a_payload_with_a_role_you_lack_is_403(release, crew):
    with pytest.raises(ClientError) as caught:
        client.fetch_payload(crew["bob"].api, release=release.pk, role="safety_officer")

    assert caught.value.status == 403
    assert "do not hold the role" in str(caught.value)


def test_someone_of_another_lab_gets_404(release, crew):
    outsider = signer(factories.organization(kind="lab"), "lab_signer")
    statement = client.fetch_payload(crew["bob"].api, release=release.pk, role="lab_signer")
    before = recorded()

    response = submit(outsider, signing.sign(statement, outsider.key))

    refused(response, 404)
    assert recorded() == before


def test_a_regulator_is_not_a_signer_of_the_lab(release, crew):
    rita = signer(factories.organization(kind="regulator"), "regulator")
    statement = client.fetch_payload(crew["bob"].api, release=release.pk, role="lab_signer")
    before = recorded()

    refused(submit(rita, signing.sign(statement, rita.key)), 403, "lab")

    assert recorded() == before


def test_a_revoked_key_is_refused(release, crew):
    bob = crew["bob"]
    envelope = bob.envelope(release, "lab_signer")
    key = bob.user.signing_keys.get()
    key_revoke(key_pk=key.pk, reason="laptop lost", actor=bob.user)
    before = recorded()

    body = refused(submit(bob, envelope), 403, "key_revoked")

    assert key.key_id in body["message"]
    assert recorded() == before


def test_an_expired_key_is_refused(lab, release):
    # given a lab signer whose only key, registered a year ago, expired yesterday
    erin = factories.person(lab, "lab_signer")
    old = generate_private_key()
    now = timezone.now()
    key_register(user=erin, public_key=public_key_to_base64(old.public_key()), name="old",
                 now=now - timedelta(days=365), expires_at=now - timedelta(days=1))
    erin_api = api_for(erin)
    statement = client.fetch_payload(erin_api, release=release.pk, role="lab_signer")
    before = recorded()

    body = refused(submit(erin_api, signing.sign(statement, old)), 403, "key_expired")

    assert "expired" in body["message"]
    assert recorded() == before


def test_a_signature_by_another_persons_key_is_refused(release, crew):
    # bob signs with carol's key (say he got hold of it) and submits as himself
    statement = client.fetch_payload(crew["bob"].api, release=release.pk, role="lab_signer")
    envelope = signing.sign(statement, crew["carol"].key)
    before = recorded()

    body = refused(submit(crew["bob"], envelope), 403, "foreign_key")

    assert "registered to another person" in body["message"]
    assert recorded() == before


def test_a_key_nobody_registered_is_refused(release, crew):
    statement = client.fetch_payload(crew["bob"].api, release=release.pk, role="lab_signer")
    before = recorded()

    body = refused(submit(crew["bob"], signing.sign(statement, generate_private_key())),
                   403, "unregistered_key")

    assert "not signed by any key registered to you" in body["message"]
    assert recorded() == before


def test_a_signer_without_any_key_is_told_to_register_one(lab, release, crew):
    keyless = api_for(factories.person(lab, "lab_signer"))
    statement = client.fetch_payload(crew["bob"].api, release=release.pk, role="lab_signer")

    body = refused(submit(keyless, signing.sign(statement, crew["bob"].key)), 403, "no_key")

    assert "POST /api/keys" in body["message"]


@pytest.mark.parametrize(
    ("envelope", "path"),
    [
        ({"payloadType": "application/vnd.in-toto+json", "signatures": [{"sig": "AA=="}]},
         "envelope.payload"),
        ({"payload": "e30=", "payloadType": "application/vnd.in-toto+json", "signatures": []},
         "envelope.signatures"),
    ],
)
def test_a_malformed_envelope_is_400_with_the_field(crew, envelope, path):
    before = recorded()

    body = refused(submit(crew["bob"], envelope), 400)

    assert [f["path"].split(".non_field_errors")[0] for f in body["fields"]] == [path]
    assert recorded() == before


def test_an_envelope_of_another_payload_type_is_refused(release, crew):
    envelope = crew["bob"].envelope(release, "lab_signer")
    envelope["payloadType"] = "application/json"

    refused(submit(crew["bob"], envelope), 400, "wrong_payload_type")


def test_a_statement_that_is_not_a_signoff_is_400(crew):
    from govflow.trust.intoto import Statement, Subject, sign_statement

    statement = Statement((Subject.for_bytes("x", b"x"),), "https://example.com/other/v1", {})
    before = recorded()

    body = refused(submit(crew["bob"], sign_statement(statement, crew["bob"].key)),
                   400)

    assert "predicateType" in body["message"]
    assert recorded() == before
