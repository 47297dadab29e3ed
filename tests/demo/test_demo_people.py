"""The demo's people: the README's promise that alice can try the admin's Advance action."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from govflow.demo.build import DemoWorld, _people
from tests import factories

pytestmark = pytest.mark.django_db


def test_alice_can_use_the_admins_advance_action(lab):
    # given the demo's people, and a release of alice's lab
    _people(DemoWorld())
    alice = get_user_model().objects.get(username="alice")
    from govflow.accounts.models import Organization

    frontier = Organization.objects.get(slug="frontier-lab")
    release = factories.release(frontier, alice)
    client = Client()
    client.force_login(alice)

    # when she opens the releases in the admin and runs the action on it
    listing = client.get("/admin/releases/release/")
    answer = client.post("/admin/releases/release/", {
        "action": "advance_selected", "_selected_action": [release.pk]}, follow=True)

    # then the page and the action are open to her; the gate decides (no report yet)
    assert listing.status_code == 200
    assert release.title in listing.content.decode()
    assert answer.status_code == 200
    assert "not advanced" in answer.content.decode()  # the red-team report is missing
    release.refresh_from_db()
    assert release.stage == "internal_evals"
