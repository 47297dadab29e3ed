from __future__ import annotations

import pytest

from tests import factories
from tests.evalruns.support import SERVING, endpoints, policy_text


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


@pytest.fixture
def make_release(lab, release_manager, settings):
    settings.GOVFLOW_EVAL_ENDPOINTS = endpoints(sim="http://127.0.0.1:9/v1",
                                                other="http://127.0.0.1:9/v1")

    def make(min_samples=40, serving=SERVING, **policy):
        changes = {"serving": serving} if serving else {}
        return factories.release(lab, release_manager,
                                 policy_text=policy_text(min_samples=min_samples, **policy),
                                 **changes)
    return make
