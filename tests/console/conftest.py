"""Console fixtures: signed-in browsers-as-clients for each persona."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def client_for():
    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
