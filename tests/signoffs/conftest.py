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
