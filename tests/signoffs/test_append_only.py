"""Sign-offs are append-only in the database itself, like the audit log."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from govflow.signoffs.models import SignOff

pytestmark = pytest.mark.django_db


@pytest.fixture
def signoff(release, crew):
    crew["bob"].signoff(release, "lab_signer")
    return SignOff.objects.get()


def test_a_signoff_cannot_be_updated(signoff):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        SignOff.objects.filter(pk=signoff.pk).update(decision="reject")

    assert SignOff.objects.get().decision == "approve"


def test_a_signoff_cannot_be_deleted_even_by_raw_sql(signoff):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("DELETE FROM signoffs_signoff WHERE id = %s", [signoff.pk])

    assert SignOff.objects.filter(pk=signoff.pk).exists()
