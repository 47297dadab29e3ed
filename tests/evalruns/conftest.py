from __future__ import annotations

import pytest

from tests import factories
from tests.evalruns.support import endpoints, policy_text


@pytest.fixture
def sim(settings):
    """A SIMULATED agent (profile `default`) on a thread, configured as endpoint `sim`."""
    from govflow.evalruns.simulator import simulator_in_process

    with simulator_in_process("default") as (url, server):
        settings.GOVFLOW_EVAL_ENDPOINTS = endpoints(sim=url)
        yield server


@pytest.fixture
def release(lab, release_manager):
    """A release at internal_evals under a policy whose only gate into the third-party
    audit is the deception eval."""
    return factories.release(lab, release_manager, policy_text=policy_text())
