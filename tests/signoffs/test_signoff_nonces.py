"""Sign-off nonces are the server's: issued to one signer, used once, expiring. A nonce
the signer made up, or one a colleague fetched, is refused with nothing recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from govflow.client import signing
from govflow.client import signoffs as client
from govflow.keys.models import StatementNonce
from govflow.signoffs.predicate import PREDICATE_TYPE
from govflow.trust.statements import new_nonce
from tests.signoffs.support import recorded
from tests.signoffs.test_signoff_refusals import refused, submit

pytestmark = pytest.mark.django_db


def test_the_nonce_endpoint_issues_a_nonce_bound_to_the_signer(release, crew):
    issued = client.fetch_nonce(crew["bob"].api, release=release.pk, role="lab_signer")

    row = StatementNonce.objects.get(nonce=issued["nonce"])
    assert (row.user_id, row.predicate_type, row.used_at) == (crew["bob"].user.pk,
                                                              PREDICATE_TYPE, None)
    assert row.expires_at > timezone.now()


def test_a_statement_around_a_fetched_nonce_is_recorded_and_spends_it(release, crew):
    nonce = client.fetch_nonce(crew["bob"].api, release=release.pk, role="lab_signer")["nonce"]
    statement = client.fetch_payload(crew["bob"].api, release=release.pk, role="lab_signer",
                                     nonce=nonce)

    assert statement["predicate"]["nonce"] == nonce
    assert submit(crew["bob"], signing.sign(statement, crew["bob"].key))[0] == 201
    assert StatementNonce.objects.get(nonce=nonce).used_at is not None


def test_a_made_up_nonce_is_refused(release, crew):
    statement = client.fetch_payload(crew["bob"].api, release=release.pk, role="lab_signer")
    statement["predicate"]["nonce"] = new_nonce()  # well formed, never issued
    before = recorded()

    refused(submit(crew["bob"], signing.sign(statement, crew["bob"].key)), 409, "nonce_unknown")

    assert recorded() == before


def test_a_colleagues_nonce_is_refused(release, crew):
    # given carol fetched a nonce, and bob puts it in his own statement
    carols = client.fetch_nonce(crew["carol"].api, release=release.pk, role="lab_signer")
    statement = client.fetch_payload(crew["bob"].api, release=release.pk, role="lab_signer")
    statement["predicate"]["nonce"] = carols["nonce"]
    before = recorded()

    refused(submit(crew["bob"], signing.sign(statement, crew["bob"].key)), 403, "nonce_foreign")

    assert recorded() == before
    assert StatementNonce.objects.get(nonce=carols["nonce"]).used_at is None


def test_a_colleagues_nonce_cannot_be_asked_for_in_a_payload_either(release, crew):
    carols = client.fetch_nonce(crew["carol"].api, release=release.pk, role="lab_signer")

    with pytest.raises(client.ClientError) as caught:
        client.fetch_payload(crew["bob"].api, release=release.pk, role="lab_signer",
                             nonce=carols["nonce"])

    assert caught.value.status == 403


def test_an_expired_nonce_is_refused(release, crew):
    envelope = crew["bob"].envelope(release, "lab_signer")
    nonce = StatementNonce.objects.filter(user=crew["bob"].user).latest("id")
    nonce.expires_at = timezone.now() - timedelta(seconds=1)
    nonce.save(update_fields=["expires_at"])
    before = recorded()

    refused(submit(crew["bob"], envelope), 409, "nonce_expired")

    assert recorded() == before
