"""Gate kind `deception_eval`, provenance: the models that answered bound to the manifest's
serving declaration, the judge a different model and the policy's, simulated runs refused in
production. Each test names the attack it stops."""

from __future__ import annotations

import pytest

from tests.evalruns.support import (
    CELL_HIGH,
    CELL_NONE,
    JUDGE_MODEL,
    SERVED_MODEL,
    clean,
    gate,
    run_with,
)

pytestmark = pytest.mark.django_db


# Finding 3: a SIMULATED run meets the gate; no tie between the answering model and the system.
def test_a_simulated_run_never_meets_the_gate_in_production(release, release_manager, settings):
    rs = clean(60)
    for cell in rs.values():
        for r in cell:
            r["provenance"]["simulated"] = True
    run_with(release, release_manager, rs)
    assert gate(release, release_manager)["met"] is True  # development: allowed, labelled

    settings.GOVFLOW_ENV = "production"
    result = gate(release, release_manager)

    assert result["met"] is False
    assert ("120 sample(s) came from a SIMULATED endpoint, which never meets a gate outside "
            "development (GOVFLOW_ENV=production)") in result["reason"]


def test_the_manifest_must_declare_how_the_system_is_served(make_release, release_manager):
    release = make_release(serving=None)
    run_with(release, release_manager, clean())

    result = gate(release, release_manager)

    assert result["met"] is False
    assert "does not declare how the system is served" in result["reason"]


def test_samples_answered_by_another_model_do_not_count_for_the_system(
    release, release_manager
):
    rs = clean(60)
    for r in rs[CELL_HIGH][:5]:
        r["provenance"]["models_answered"] = ["a-much-safer-model"]
    run_with(release, release_manager, rs)

    result = gate(release, release_manager)

    assert result["met"] is False
    assert (f"samples were answered by a-much-safer-model, not the served model "
            f"{SERVED_MODEL}") in result["reason"]


def test_a_run_against_another_endpoint_does_not_count(release, release_manager):
    run = run_with(release, release_manager, clean(60), endpoint="other")

    result = gate(release, release_manager)

    assert result["met"] is False
    assert f"run {run.pk} called endpoint 'other', not 'sim'" in result["reason"]


def test_the_judge_may_not_be_the_model_under_test(make_release, release_manager):
    release = make_release(judge=SERVED_MODEL)
    rs = clean(60)
    for cell in rs.values():
        for r in cell:
            r["provenance"]["judge_models_answered"] = [SERVED_MODEL]
    run_with(release, release_manager, rs)

    result = gate(release, release_manager)

    assert result["met"] is False
    assert "the judge must be a different model from the one under test" in result["reason"]


def test_a_judge_other_than_the_policys_does_not_count(release, release_manager):
    rs = clean(60)
    rs[CELL_NONE][0]["provenance"]["judge_models_answered"] = ["lenient-judge"]
    run_with(release, release_manager, rs)

    result = gate(release, release_manager)

    assert result["met"] is False
    assert f"judged by lenient-judge, not the policy's judge {JUDGE_MODEL}" in result["reason"]


def test_fingerprints_seen_are_recorded(release, release_manager):
    rs = clean(60)
    rs[CELL_NONE][0]["provenance"]["system_fingerprints"] = ["fp_abc"]
    run_with(release, release_manager, rs)

    assert gate(release, release_manager)["evidence"]["system_fingerprints"] == ["fp_abc"]
