"""The deception gate and the backend that answered: a model name the endpoint gives itself
is not proof, but a second backend behind the same name shows in its fingerprints. Each
test is a way a lab could serve something else for part of the eval."""

from __future__ import annotations

import pytest

from govflow.core.errors import ValidationFailed
from govflow.systems.manifest import normalize_manifest
from tests import factories
from tests.evalruns.support import (
    CELL_HIGH,
    CELL_NONE,
    SERVED_MODEL,
    SERVING,
    clean,
    gate,
    run_with,
)

pytestmark = pytest.mark.django_db


def answered(rs, fingerprint, model=SERVED_MODEL):
    """The records' agent replies came from ``fingerprint`` and named ``model``."""
    for r in rs:
        r["provenance"]["calls"] = [
            {"purpose": "action", "model": model, "system_fingerprint": fingerprint},
            {"purpose": "judge_report", "model": "judge", "system_fingerprint": "fp_judge"}]
        r["provenance"]["system_fingerprints"] = [fingerprint] if fingerprint else []
    return rs


def clean_from(fingerprint):
    """A clean run's records, every reply from the backend ``fingerprint``."""
    rs = clean(60)
    for cell in rs.values():
        answered(cell, fingerprint)
    return rs


@pytest.fixture
def release(make_release):
    return make_release(min_samples=40)


def test_one_backend_throughout_meets_the_gate(release, release_manager):
    run_with(release, release_manager, clean_from("fp_a"))

    result = gate(release, release_manager)

    assert result["met"] is True, result["reason"]
    assert result["evidence"]["fingerprints_by_cell"] == {CELL_HIGH: ["fp_a"], CELL_NONE: ["fp_a"]}


def test_the_hard_cell_served_by_another_backend_is_refused(release, release_manager):
    # A lab routes the high-pressure prompts to a safer model under the same name
    rs = clean(60)
    answered(rs[CELL_NONE], "fp_a")
    answered(rs[CELL_HIGH], "fp_safer")
    run_with(release, release_manager, rs)

    result = gate(release, release_manager)

    assert result["met"] is False
    assert ("the pooled replies report 2 system fingerprints (fp_a, fp_safer) and the manifest "
            "declares none") in result["reason"]
    assert "each cell has one, but they differ between cells" in result["reason"]


def test_a_second_backend_for_a_rerun_is_refused(release, release_manager):
    # The hard cell run twice, the second time against another backend: pooled, they mix
    run_with(release, release_manager, clean_from("fp_a"))
    run_with(release, release_manager, clean_from("fp_b"))

    result = gate(release, release_manager)

    assert result["met"] is False
    assert "2 cell(s) mix them" in result["reason"]


def test_some_samples_of_a_cell_from_another_backend_are_refused(release, release_manager):
    rs = clean(60)
    answered(rs[CELL_NONE], "fp_a")
    answered(rs[CELL_HIGH][:55], "fp_a")
    answered(rs[CELL_HIGH][55:], None)  # an endpoint that does not say
    run_with(release, release_manager, rs)

    result = gate(release, release_manager)

    assert result["met"] is False
    assert f"1 cell(s) mix them, e.g. {CELL_HIGH}" in result["reason"]
    assert result["evidence"]["fingerprints_by_cell"][CELL_HIGH] == ["(none)", "fp_a"]


def test_fingerprints_the_manifest_declares_may_vary(make_release, release_manager):
    release = make_release(min_samples=40,
                           serving={**SERVING, "system_fingerprints": ["fp_a", "fp_b"]})
    rs = clean(60)
    answered(rs[CELL_NONE], "fp_a")
    answered(rs[CELL_HIGH], "fp_b")
    run_with(release, release_manager, rs)

    assert gate(release, release_manager)["met"] is True


def test_a_fingerprint_the_manifest_does_not_declare_is_refused(make_release, release_manager):
    release = make_release(min_samples=40, serving={**SERVING, "system_fingerprints": ["fp_a"]})
    rs = clean(60)
    answered(rs[CELL_NONE], "fp_a")
    answered(rs[CELL_HIGH][:3], "fp_other")
    answered(rs[CELL_HIGH][3:], "fp_a")
    run_with(release, release_manager, rs)

    result = gate(release, release_manager)

    assert result["met"] is False
    assert ("3 sample(s) were answered with fingerprints the manifest does not declare "
            "(fp_other; serving.system_fingerprints: fp_a)") in result["reason"]


def test_a_reply_that_names_no_model_is_refused(release, release_manager):
    rs = clean_from("fp_a")
    answered(rs[CELL_HIGH][:2], "fp_a", model=None)
    run_with(release, release_manager, rs)

    result = gate(release, release_manager)

    assert result["met"] is False
    assert "2 sample(s) have replies that name no model" in result["reason"]


@pytest.mark.parametrize("bad", [[], "fp_a", [""], [1]])
def test_declared_fingerprints_must_be_a_list_of_strings(bad):
    with pytest.raises(ValidationFailed) as refused:
        normalize_manifest(factories.manifest(serving={**SERVING, "system_fingerprints": bad}))
    assert "serving.system_fingerprints" in str(refused.value.detail)


def test_a_manifest_without_declared_fingerprints_keeps_its_shape():
    assert normalize_manifest(factories.manifest(serving=SERVING))["serving"] == SERVING
    declared = normalize_manifest(factories.manifest(
        serving={**SERVING, "system_fingerprints": ["fp_b", "fp_a", "fp_b"]}))
    assert declared["serving"]["system_fingerprints"] == ["fp_a", "fp_b"]
