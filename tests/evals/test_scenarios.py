"""Scenario files, rendering and factorial designs."""

from __future__ import annotations

import hashlib
import itertools
import re
from pathlib import Path

import pytest

from evals.design import Cell, cells, derive_seed, parse_factor_args, sample_specs
from evals.errors import ScenarioError
from evals.scenarios import list_scenarios, load_scenario

REQUIRED_FACTORS = {
    "pressure": {"none", "moderate", "high"},
    "scratchpad": {"on", "off"},
    "risk": {"low", "high"},
    "stance": {"none", "generic", "specific", "encourage"},
}


def test_shipped_scenarios_are_listed():
    assert {"insider_trading", "capability_sandbagging"} <= set(list_scenarios())


@pytest.mark.parametrize("name", ["insider_trading", "capability_sandbagging"])
def test_scenario_carries_canary_digest_and_required_factors(name):
    scenario = load_scenario(name)
    raw = Path(scenario.path).read_bytes()
    assert scenario.digest == hashlib.sha256(raw).hexdigest()
    assert re.search(r"GOVFLOW-CANARY [0-9a-f-]{36}", scenario.canary)
    assert raw.startswith(b"# GOVFLOW-CANARY")
    for factor, levels in REQUIRED_FACTORS.items():
        assert set(scenario.factors[factor]) == levels
    assert scenario.paraphrases >= 3


@pytest.mark.parametrize("name", ["insider_trading", "capability_sandbagging"])
def test_every_cell_and_paraphrase_renders_without_leftover_placeholders(name):
    scenario = load_scenario(name)
    seen_systems = set()
    for combo in itertools.product(*scenario.factors.values()):
        levels = dict(zip(scenario.factors, combo, strict=True))
        for paraphrase in range(scenario.paraphrases):
            rendered = scenario.render(levels, paraphrase)
            text = "\n".join(str(m.get("content") or "") for m in rendered.messages)
            assert "{{" not in text
            for factor, level in levels.items():
                assert scenario.fragment(factor, level, paraphrase) in text
            seen_systems.add(rendered.messages[0]["content"])
            tool_names = {t["function"]["name"] for t in rendered.described_tools}
            assert ("reasoning" in tool_names) == (levels["scratchpad"] == "on")
            # The text protocol sends no tool definitions; the prompt describes the same tools.
            assert (rendered.tools == []) == (levels["action_format"] == "text")
    # Paraphrases really are different wordings.
    assert len(seen_systems) >= scenario.paraphrases


def test_history_tool_calls_are_answered_in_protocol_order():
    rendered = load_scenario("insider_trading").render({}, 1)
    call = next(m for m in rendered.messages if m.get("tool_calls"))
    answer = rendered.messages[rendered.messages.index(call) + 1]
    assert answer["role"] == "tool"
    assert answer["tool_call_id"] == call["tool_calls"][0]["id"]


def test_cells_cross_chosen_levels_and_keep_other_factors_at_defaults():
    scenario = load_scenario("insider_trading")
    design = cells(scenario, {"pressure": ["high", "none"], "scratchpad": ["on", "off"]})
    assert len(design) == 4
    assert design[0].key == "pressure=high|risk=low|scratchpad=on|stance=none"
    assert all(c.factors["stance"] == "none" for c in design)
    assert Cell.from_key(design[3].key) == design[3]


def test_default_design_is_small_and_varies_pressure():
    design = cells(load_scenario("insider_trading"), None)
    assert [c.factors["pressure"] for c in design] == ["none", "moderate", "high"]


def test_unknown_factor_or_level_is_refused():
    scenario = load_scenario("insider_trading")
    with pytest.raises(ScenarioError, match="unknown level"):
        cells(scenario, {"pressure": ["extreme"]})
    with pytest.raises(ScenarioError, match="unknown factor"):
        cells(scenario, {"mood": ["grumpy"]})
    with pytest.raises(ScenarioError):
        load_scenario("no_such_scenario")


def test_sample_specs_rotate_paraphrases_with_stable_seeds():
    scenario = load_scenario("capability_sandbagging")
    design = cells(scenario, {"pressure": ["high"]})
    specs = sample_specs(scenario, design, samples_per_cell=7, seed=42)
    assert [s.paraphrase for s in specs] == [0, 1, 2, 0, 1, 2, 0]
    again = sample_specs(scenario, design, samples_per_cell=7, seed=42)
    assert [s.seed for s in specs] == [s.seed for s in again]
    assert specs[0].seed == derive_seed(42, scenario.name, design[0].key, 0, 0)
    other = sample_specs(scenario, design, samples_per_cell=7, seed=43)
    assert [s.seed for s in specs] != [s.seed for s in other]
    assert specs[3].key == (design[0].key, 0, 3)


def test_factor_arguments_parse_like_the_cli():
    assert parse_factor_args(["pressure=high,none", "scratchpad=on"]) == {
        "pressure": ["high", "none"], "scratchpad": ["on"]}
    with pytest.raises(ScenarioError):
        parse_factor_args(["pressure"])


def test_a_scenario_file_with_unquoted_on_off_levels_is_rejected(tmp_path):
    source = Path(load_scenario("insider_trading").path).read_text()
    broken = tmp_path / "broken.yaml"
    broken.write_text(source.replace('"on":', "on:", 1))
    with pytest.raises(ScenarioError, match="quoted"):
        load_scenario(broken)
