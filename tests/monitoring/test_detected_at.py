"""An incident's `detected_at` is bounded: not after now (as before), and not before the
last year (the probe was accepted with year 1)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from govflow.monitoring.models import Incident
from tests import factories


@pytest.mark.parametrize("detected_at", ["0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z"])
def test_detected_at_more_than_a_year_ago_is_400(world, detected_at):
    client = APIClient()
    monitor = factories.machine_token_for(world.manager.user, world.release)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {monitor}")
    response = client.post("/api/incidents", {
        "release": world.release.pk, "severity": "low", "category": "misuse",
        "description": "x", "detected_at": detected_at}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"][0]["path"] == "detected_at"
    assert not Incident.objects.exists()
