"""Gate kind `inspect_log`: an Inspect log uploaded as evidence, its task and metric checked
against a threshold; the newest log of the task is the one judged."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from govflow.policy.document import PolicyInvalid, parse_policy
from govflow.releases.services import release_gate_report
from tests import factories

pytestmark = pytest.mark.django_db

POLICY = """
name: inspect_test
stages:
  - name: internal_evals
  - name: third_party_audit
    gates:
      - kind: inspect_log
        id: inspect_deception
        task: insider_trading
        metric: {metric}
        threshold: 0.1
        direction: "{direction}"
"""


def header(*, task="insider_trading", status="success", joint=0.04) -> dict:
    return {"status": status, "eval": {"task": task, "model": "openai/some-model",
                                       "task_id": "t1", "run_id": "r1"},
            "results": {"total_samples": 120, "completed_samples": 120, "scores": [
                {"name": "govflow_funnel", "metrics": {
                    "joint": {"name": "joint", "value": joint},
                    "misaligned": {"name": "misaligned", "value": 0.3}}}]}}


def as_eval(data: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("header.json", json.dumps(data))
    return buffer.getvalue()


def as_json(data: dict) -> bytes:
    return json.dumps(data).encode()


def gate(release, actor) -> dict:
    report = release_gate_report(release=release, target=None, actor=actor)
    return next(g for g in report["gates"] if g["kind"] == "inspect_log")


@pytest.fixture
def make_release(lab, release_manager):
    def make(metric="joint", direction="<="):
        return factories.release(lab, release_manager,
                                 policy_text=POLICY.format(metric=metric, direction=direction))
    return make


@pytest.mark.parametrize("encode", [as_eval, as_json])
def test_a_log_under_the_threshold_meets_the_gate(make_release, release_manager, encode):
    release = make_release()
    document = factories.attach(release, release_manager, "inspect_log", encode(header()))

    result = gate(release, release_manager)

    assert result["met"] is True, result["reason"]
    assert result["evidence"]["document"] == document.pk
    assert result["evidence"]["sha256"] == document.sha256
    assert result["evidence"]["value"] == 0.04
    assert "insider_trading joint = 0.04, meets <= 0.1" in result["reason"]


def test_a_log_over_the_threshold_does_not(make_release, release_manager):
    release = make_release(metric="govflow_funnel/joint")
    factories.attach(release, release_manager, "inspect_log", as_eval(header(joint=0.2)))

    result = gate(release, release_manager)

    assert result["met"] is False
    assert "does not meet <= 0.1" in result["reason"]


def test_direction_at_least(make_release, release_manager):
    release = make_release(metric="misaligned", direction=">=")
    factories.attach(release, release_manager, "inspect_log", as_json(header()))

    assert gate(release, release_manager)["met"] is True


def test_the_newest_log_of_the_task_is_judged(make_release, release_manager):
    release = make_release()
    factories.attach(release, release_manager, "inspect_log", as_json(header(joint=0.01)))
    factories.attach(release, release_manager, "inspect_log", as_json(header(joint=0.5)))
    factories.attach(release, release_manager, "inspect_log",
                     as_json(header(task="other_task", joint=0.0)))

    result = gate(release, release_manager)

    assert result["met"] is False
    assert result["evidence"]["value"] == 0.5
    assert [s["problem"] for s in result["evidence"]["skipped"]] == ["task 'other_task'"]


@pytest.mark.parametrize(("body", "reason"), [
    (as_json(header(task="sandbagging")), "no readable Inspect log of task 'insider_trading'"),
    (as_json(header(status="error")), "did not finish (status 'error')"),
    (b"not a log at all", "no readable Inspect log"),
])
def test_wrong_task_unfinished_run_or_garbage_is_not_met(make_release, release_manager, body,
                                                         reason):
    release = make_release()
    factories.attach(release, release_manager, "inspect_log", body)

    result = gate(release, release_manager)

    assert result["met"] is False
    assert reason in result["reason"]


def test_a_missing_metric_names_the_metrics_the_log_has(make_release, release_manager):
    release = make_release(metric="accuracy")
    factories.attach(release, release_manager, "inspect_log", as_json(header()))

    result = gate(release, release_manager)

    assert result["met"] is False
    assert "no value for metric 'accuracy'" in result["reason"]
    assert "govflow_funnel/joint" in result["reason"]


def test_the_policy_refuses_a_direction_other_than_le_or_ge():
    with pytest.raises(PolicyInvalid, match="is not one of: <=, >="):
        parse_policy(POLICY.format(metric="joint", direction="<"))
