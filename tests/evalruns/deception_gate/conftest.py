"""The `deception_eval` gate's tests: their `release` is served as the policy's `sim`
endpoint (tests/evalruns/conftest.py's `release` declares no serving)."""

from __future__ import annotations

import pytest


@pytest.fixture
def release(make_release):
    return make_release()
