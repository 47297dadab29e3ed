from __future__ import annotations

import pytest

from tests import factories
from tests.signoffs.support import SIGNOFF_POLICY, signer


@pytest.fixture
def crew(lab, release_manager):
    """Two lab signers and a safety officer of the lab, each with a registered key."""
    return {
        "bob": signer(lab, "lab_signer", username="bob"),
        "carol": signer(lab, "lab_signer", username="carol"),
        "dana": signer(lab, "safety_officer", username="dana"),
    }


@pytest.fixture
def release(lab, release_manager):
    """A release at internal_evals whose red-team report is attached: only the sign-off
    gate stands between it and third_party_audit."""
    release = factories.release(lab, release_manager, policy_text=SIGNOFF_POLICY)
    factories.attach(release, release_manager)
    return release


CERTIFIED_POLICY = SIGNOFF_POLICY.replace(
    "          safety_officer: 1\n", "          safety_officer: 1\n        certified_keys: true\n")


@pytest.fixture
def rita():
    """A regulator with a registered key: (user, private key)."""
    return factories.keyed_regulator()


@pytest.fixture
def certified_crew(lab, rita):
    """The crew, each with a key rita certified for their role."""
    return {
        "bob": signer(lab, "lab_signer", username="bob", certified_by=rita),
        "carol": signer(lab, "lab_signer", username="carol", certified_by=rita),
        "dana": signer(lab, "safety_officer", username="dana", certified_by=rita),
    }


@pytest.fixture
def certified_release(lab, release_manager):
    """Like ``release``, under a policy whose sign-off gate requires certified keys."""
    release = factories.release(lab, release_manager, policy_text=CERTIFIED_POLICY)
    factories.attach(release, release_manager)
    return release
