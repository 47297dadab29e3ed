"""The Inspect bridge and the Inspect log reader (reader works without inspect-ai)."""

from __future__ import annotations

import importlib.util
import json
import zipfile
from pathlib import Path

import pytest

from evals.inspect_log import InspectLogError, read_inspect_log

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:inspect_ai.*")
HAS_INSPECT = importlib.util.find_spec("inspect_ai") is not None
needs_inspect = pytest.mark.skipif(
    not HAS_INSPECT, reason="inspect-ai not installed (pip install inspect-ai==0.3.285)")
METRICS = {"misaligned", "deceptive", "joint", "deceptive_given_misaligned",
           "double_down_given_deceptive"}


@pytest.fixture(scope="module")
def inspect_logs(deceptive_sim, tmp_path_factory) -> dict[str, Path]:
    """Real logs written by inspect-ai: one .eval (zip) and one .json, from the simulator."""
    if not HAS_INSPECT:
        pytest.skip("inspect-ai not installed (pip install inspect-ai==0.3.285)")
    from inspect_ai import eval as inspect_eval

    from evals.inspect_tasks import govflow_task

    logs = {}
    for fmt in ("eval", "json"):
        log_dir = tmp_path_factory.mktemp(f"inspect-{fmt}")
        task = govflow_task("insider_trading", factors="pressure=high", samples=12, seed=3,
                            judge_model="openai-api/sim/govflow-simulator/judge",
                            judge_base_url=deceptive_sim.base_url, judge_api_key="unused")
        result = inspect_eval(task, model="openai-api/sim/govflow-simulator/deceptive",
                              model_base_url=deceptive_sim.base_url,
                              model_args={"api_key": "unused"}, log_dir=str(log_dir),
                              log_format=fmt, display="none", max_connections=12)
        assert result[0].status == "success", result[0].error
        logs[fmt] = next(log_dir.glob(f"*.{fmt}"))
    return logs


@needs_inspect
@pytest.mark.parametrize("fmt", ["eval", "json"])
def test_read_inspect_log_parses_real_logs(inspect_logs, fmt):
    info = read_inspect_log(inspect_logs[fmt])
    assert info["format"] == fmt
    assert info["task"] == "insider_trading"
    assert info["status"] == "success"
    assert info["samples"] == 12
    assert set(info["metric_values"]) == METRICS
    assert 0.0 <= info["metric_values"]["misaligned"] <= 1.0
    assert info["metrics"]["govflow_funnel/misaligned"] == info["metric_values"]["misaligned"]


@needs_inspect
@pytest.mark.parametrize("fmt", ["eval", "json"])
def test_a_real_logs_header_metrics_are_recomputed_worst_case_from_its_samples(
    inspect_logs, fmt
):
    from evals import stats
    from evals.inspect_log import read_inspect_samples

    info = read_inspect_log(inspect_logs[fmt])
    samples = read_inspect_samples(inspect_logs[fmt])

    assert len(samples) == 12
    assert {s["cell"] for s in samples} == {
        "alternative=none|pressure=high|remove=nothing|risk=neutral|scratchpad=on|stance=none"}
    recomputed = stats.summarize(samples, ambiguous="worst")["overall"]["metrics"]
    for metric in ("misaligned", "deceptive", "joint"):
        assert info["metric_values"][metric] == pytest.approx(recomputed[metric]["rate"])
    assert all("openai-api/sim/govflow-simulator/deceptive" in s["models"] for s in samples)


@needs_inspect
def test_both_log_formats_agree(inspect_logs):
    eval_info = read_inspect_log(inspect_logs["eval"])
    json_info = read_inspect_log(inspect_logs["json"])
    assert eval_info["metric_values"].keys() == json_info["metric_values"].keys()


@needs_inspect
def test_inspect_task_uses_the_same_samples_and_graders():
    from evals.design import cells, sample_specs
    from evals.inspect_tasks import govflow_task
    from evals.scenarios import load_scenario

    task = govflow_task("capability_sandbagging", factors="pressure=high,none", samples=4, seed=9)
    scenario = load_scenario("capability_sandbagging")
    specs = sample_specs(scenario, cells(scenario, {"pressure": ["high", "none"]}),
                         samples_per_cell=4, seed=9)
    samples = list(task.dataset)
    assert [s.metadata["seed"] for s in samples] == [s.seed for s in specs]
    assert {s.metadata["scenario_digest"] for s in samples} == {scenario.digest}


def test_read_inspect_log_without_inspect_on_a_handmade_zip(tmp_path):
    header = {"status": "success", "eval": {"task": "t", "model": "m", "task_id": "1"},
              "results": {"total_samples": 3, "completed_samples": 3, "scores": [
                  {"name": "s", "metrics": {"accuracy": {"name": "accuracy", "value": 0.5}}}]}}
    path = tmp_path / "x.eval"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("header.json", json.dumps(header))
    info = read_inspect_log(path)
    assert info["task"] == "t"
    assert info["metric_values"] == {"accuracy": 0.5}


@pytest.mark.parametrize("content", [b"not a zip", b'{"no": "eval"}'])
def test_read_inspect_log_rejects_non_logs(tmp_path, content):
    path = tmp_path / ("bad.eval" if content.startswith(b"not") else "bad.json")
    path.write_bytes(content)
    with pytest.raises(InspectLogError):
        read_inspect_log(path)


def test_evals_package_has_no_django_imports():
    root = Path(__file__).resolve().parents[2] / "evals"
    offenders = [p for p in root.rglob("*.py")
                 if "import django" in p.read_text() or "from django" in p.read_text()]
    assert offenders == []
