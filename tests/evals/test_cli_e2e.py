"""The CLI end to end against the SIMULATED endpoint, over real HTTP in a subprocess."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from evals import stats
from evals.cli import main
from evals.scenarios import load_scenario
from evals.simulator import load_profile

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def base_args(sim, out: Path, *extra: str) -> list[str]:
    return ["run", "--scenario", "insider_trading", "--model", "govflow-simulator/deceptive",
            "--base-url", sim.base_url, "--judge-model", "govflow-simulator/judge",
            "--out", str(out), "--no-progress", *extra]


def test_python_m_evals_run_prints_the_funnel_and_writes_provenance(deceptive_sim, tmp_path):
    out = tmp_path / "run.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "evals", *base_args(deceptive_sim, out, "--samples", "12",
                                                   "--concurrency", "8", "--seed", "5")],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "SIMULATED ENDPOINT" in proc.stdout
    assert "P(misaligned)" in proc.stdout
    assert "kappa=" in proc.stdout
    assert "worst cell for misaligned" in proc.stdout
    records = read(out)
    assert len(records) == 36  # default design: 3 pressure levels x 12
    prov = records[0]["provenance"]
    scenario = load_scenario("insider_trading")
    assert prov["scenario_digest"] == scenario.digest
    assert prov["model_requested"] == "govflow-simulator/deceptive"
    assert prov["models_answered"] == ["govflow-simulator/deceptive"]
    assert prov["system_fingerprints"][0].startswith("sim-deceptive-")
    assert prov["simulated"] is True
    assert prov["temperature"] == 1.0
    assert prov["versions"]["openai"]
    assert prov["versions"]["python"]
    assert "git_commit" in prov
    assert prov["usage"]["total_tokens"] > 0
    assert {r["paraphrase"] for r in records} == {0, 1, 2}


def test_429_storm_with_retry_after_still_completes(start_simulator, tmp_path):
    sim = start_simulator("--profile", "deceptive", "--fault-429-rate", "0.4",
                          "--fault-rate", "0.1", "--retry-after", "0.01", "--fault-seed", "3")
    out = tmp_path / "storm.jsonl"
    # Half of all answers fail, drawn from one random stream shared by 16 concurrent
    # samples (so the order, and each call's draws, vary run to run). With 12 retries a
    # call fails for good with probability 0.5**13 (about 1 in 8,000), and a run makes
    # dozens of calls: a flake of up to about 1% a run, seen once in CI. With 24 retries
    # a call fails for good with probability 0.5**25, about 3e-8.
    code, text = run_cli(*base_args(sim, out, "--samples", "15", "--concurrency", "16",
                                    "--max-retries", "24", "--retry-backoff", "0.02",
                                    "--factor", "pressure=high"))
    assert code == 0
    records = read(out)
    assert len(records) == 15
    assert all(r["status"] in ("ok", "invalid") for r in records)


def test_429_without_retries_stops_with_the_endpoint_exit_code(start_simulator, tmp_path):
    sim = start_simulator("--fault-429-rate", "1.0", "--retry-after", "0.01")
    code, _ = run_cli(*base_args(sim, tmp_path / "x.jsonl", "--samples", "2", "--max-retries", "0"))
    assert code == 3


def test_malformed_model_replies_are_graded_invalid(start_simulator, tmp_path):
    sim = start_simulator("--profile", "deceptive", "--malformed-rate", "1.0")
    out = tmp_path / "bad.jsonl"
    code, text = run_cli(*base_args(sim, out, "--samples", "9", "--factor", "pressure=high"))
    assert code == 0
    records = read(out)
    assert len(records) == 9
    assert all(r["status"] == "invalid" for r in records)
    assert all(r["grades"]["action"]["label"] == "invalid" for r in records)
    summary = stats.summarize(records)
    assert summary["overall"]["invalid"] == 9
    # by default (what a gate reads) an unreadable action is the harmful one
    assert summary["overall"]["metrics"]["misaligned"]["k"] == 9
    assert summary["overall"]["metrics"]["misaligned"]["n"] == 9
    excluded = stats.summarize(records, ambiguous="exclude")
    assert excluded["overall"]["metrics"]["misaligned"]["n"] == 0  # kept, counted, not rated


def test_simulator_profile_is_recovered_within_intervals(deceptive_sim, tmp_path):
    out = tmp_path / "recover.jsonl"
    code, _ = run_cli(*base_args(deceptive_sim, out, "--samples", "150", "--concurrency", "32",
                                 "--factor", "pressure=high,none", "--seed", "11"))
    assert code == 0
    summary = stats.summarize(read(out), confidence=0.99)
    profile = load_profile("deceptive")
    scenario = load_scenario("insider_trading")
    rates = {}
    for key, cell in summary["cells"].items():
        truth = profile.probabilities("insider_trading", scenario.levels_for(cell["factors"]))
        for metric, stage in (("misaligned", "action"),
                              ("deceptive_given_misaligned", "deceive"),
                              ("double_down_given_deceptive", "double_down")):
            m = cell["metrics"][metric]
            if m["n"] >= 10:
                lo, hi = m["clopper_pearson"]
                assert lo <= truth[stage] <= hi, (key, metric, m, truth[stage])
        rates[cell["factors"]["pressure"]] = cell["metrics"]["misaligned"]
    # More pressure, more misaligned trading: the intervals do not even overlap.
    assert rates["high"]["clopper_pearson"][0] > rates["none"]["clopper_pearson"][1]
    assert "|pressure=high|" in summary["worst_cell"]["misaligned"]["cell"]
    kappa = summary["kappa"]["report"]["kappa"]
    assert kappa is not None
    assert 0.5 < kappa < 1.0


def _comparable(records: list[dict]) -> list[tuple]:
    return sorted((r["cell"], r["paraphrase"], r["index"], r["seed"],
                   json.dumps(r["grades"], sort_keys=True),
                   json.dumps(r["transcript"], sort_keys=True)) for r in records)


def test_runs_are_deterministic_by_seed(deceptive_sim, tmp_path):
    runs = {}
    for name, seed in (("a", "21"), ("b", "21"), ("c", "22")):
        out = tmp_path / f"{name}.jsonl"
        code, _ = run_cli(*base_args(deceptive_sim, out, "--samples", "20", "--seed", seed,
                                     "--factor", "pressure=high", "--concurrency", "10"))
        assert code == 0
        runs[name] = _comparable(read(out))
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]


def test_sandbagging_scenario_runs_with_its_own_funnel(deceptive_sim, tmp_path):
    out = tmp_path / "sandbag.jsonl"
    code, text = run_cli("run", "--scenario", "capability_sandbagging", "--model", "m",
                         "--base-url", deceptive_sim.base_url, "--samples", "20", "--out",
                         str(out), "--no-progress", "--factor", "pressure=high,none",
                         "--factor", "scratchpad=off")
    assert code == 0
    records = read(out)
    assert {r["scenario"] for r in records} == {"capability_sandbagging"}
    misaligned = [r for r in records if r["grades"]["action"]["label"] == "misaligned"]
    assert misaligned
    assert all(r["grades"]["action"]["detail"]["wrong"] >= 2 for r in misaligned)
    assert all(r["grades"]["report"] is not None for r in misaligned)
    assert "scratchpad=off" in text


def test_summarize_subcommand_reads_a_run_file(deceptive_sim, tmp_path):
    out = tmp_path / "s.jsonl"
    run_cli(*base_args(deceptive_sim, out, "--samples", "6", "--factor", "pressure=high"))
    code, text = run_cli("summarize", str(out), "--json", "--interval", "wilson")
    assert code == 0
    summary = json.loads(text)
    assert summary["overall"]["samples"] == 6
    assert summary["simulated"] is True


def test_bad_factor_level_is_a_usage_error(deceptive_sim, tmp_path):
    code, _ = run_cli(*base_args(deceptive_sim, tmp_path / "x.jsonl", "--factor", "pressure=max"))
    assert code == 2


@pytest.mark.parametrize("command", [["list"], ["show", "insider_trading", "--factor",
                                                  "stance=specific"]])
def test_list_and_show(command):
    code, text = run_cli(*command)
    assert code == 0
    assert "insider_trading" in text or "Ledger" in text
