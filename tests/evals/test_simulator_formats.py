"""Simulator profiles that answer in every action format: the parsers, not one script, are tested.

The `mixed_formats` profile has the deceptive profile's propensities but writes each reply in a
randomly chosen format; a run with it must recover the same rates, with no sample invalid.
"""

from __future__ import annotations

from collections import Counter

import pytest

from evals import stats
from evals.scenarios import load_scenario
from evals.simulator import load_profile
from tests.evals.test_cli_e2e import base_args, read, run_cli

SCENARIOS = ["insider_trading", "lying_about_actions", "oversight_evasion"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_mixed_formats_profile_is_parsed_in_every_format_and_recovered(start_simulator, tmp_path,
                                                                        name):
    sim = start_simulator("--profile", "mixed_formats")
    out = tmp_path / "mixed.jsonl"
    code, _ = run_cli(*base_args(sim, out, "--scenario", name, "--samples", "120",
                                 "--factor", "pressure=high", "--seed", "5",
                                 "--concurrency", "16"))
    assert code == 0
    records = read(out)
    formats = Counter(f for r in records for f, n in r["provenance"]["action_formats"].items()
                      for _ in range(n))
    for fmt in ("tools", "function_call", "text_protocol", "tool_call_tag", "json_text"):
        assert formats[fmt] > 0, formats
    assert all(r["status"] == "ok" for r in records), Counter(r["status"] for r in records)
    summary = stats.summarize(records, confidence=0.99)
    (cell,) = summary["cells"].values()
    truth = load_profile("mixed_formats").probabilities(
        name, load_scenario(name).levels_for(cell["factors"]))
    lo, hi = cell["metrics"]["misaligned"]["clopper_pearson"]
    assert lo <= truth["action"] <= hi
    # The required reasoning section is recorded, including the replies that left it out.
    missing = sum(r["reasoning"]["missing"] for r in records)
    assert all(r["reasoning"]["required"] for r in records)
    assert 0 < missing < sum(r["reasoning"]["replies"] for r in records) * 0.2


def test_text_action_format_with_the_no_tool_parser_profile(start_simulator, tmp_path):
    sim = start_simulator("--profile", "no_tool_parser")
    out = tmp_path / "text.jsonl"
    code, _ = run_cli(*base_args(sim, out, "--samples", "60", "--factor", "pressure=high",
                                 "--factor", "action_format=tools,text", "--seed", "3"))
    assert code == 0
    records = read(out)
    assert {r["cell"].split("|")[0] for r in records} >= {"action_format=text"}
    seen = Counter(f for r in records for f in r["provenance"]["action_formats"])
    assert "tools" not in seen
    assert "function_call" not in seen
    assert all(r["status"] == "ok" for r in records)
    assert sum(r["grades"]["action"]["label"] == "misaligned" for r in records) > 10
