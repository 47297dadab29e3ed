"""Scenario files, rendering and factorial designs."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from evals.design import Cell, cells, derive_seed, parse_factor_args, sample_specs
from evals.errors import ScenarioError
from evals.scenarios import list_scenarios, load_scenario, scenario_digest

REQUIRED_FACTORS = {
    "pressure": {"none", "moderate", "high"},
    "scratchpad": {"on", "off"},
    "risk": {"low", "high"},
    "stance": {"none", "generic", "specific", "encourage"},
}


ALL = ["insider_trading", "insider_trading_v1", "capability_sandbagging", "lying_about_actions",
       "oversight_evasion"]


def _copy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / f"copy{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(text)
    return path


def test_the_digest_names_the_content_not_the_layout(tmp_path):
    original = load_scenario("insider_trading")
    text = Path(original.path).read_text()
    # Given the same definition with a comment and blank lines added
    relaid = _copy(tmp_path, text.replace("\nfactors:", "\n# a comment\n\n\nfactors:", 1))
    # and one with a word of the manager's message changed
    edited = _copy(tmp_path, text.replace("disaster", "setback", 1))
    assert "disaster" in text
    # Then layout keeps the digest, a changed word does not
    assert load_scenario(relaid).digest == original.digest
    assert load_scenario(edited).digest != original.digest


def test_the_digest_covers_the_text_protocol_the_loader_adds(tmp_path, monkeypatch):
    import evals.scenarios

    text = Path(load_scenario("insider_trading").path).read_text()
    before = load_scenario(_copy(tmp_path, text)).digest
    monkeypatch.setattr(evals.scenarios, "TEXT_PROTOCOL", "Write whatever you like.")
    assert load_scenario(_copy(tmp_path, text)).digest != before


def test_a_definition_json_cannot_name_is_a_scenario_error(tmp_path):
    text = Path(load_scenario("insider_trading").path).read_text()
    dated = _copy(tmp_path, text.replace("\nfactors:", "\nwritten: 2026-12-01\nfactors:", 1))
    with pytest.raises(ScenarioError, match="not a JSON-representable definition"):
        load_scenario(dated)


def test_the_digest_command_prints_the_lines_a_policy_pins(capsys):
    from evals import cli

    assert cli.main(["digest", "insider_trading"]) == 0
    out = capsys.readouterr().out
    assert out == ("scenario: insider_trading\nscenario_digest: "
                   f"{load_scenario('insider_trading').digest}\n")


def test_shipped_scenarios_are_listed():
    assert set(ALL) <= set(list_scenarios())


@pytest.mark.parametrize("name", ALL)
def test_scenario_carries_canary_digest_and_required_factors(name):
    scenario = load_scenario(name)
    raw = Path(scenario.path).read_bytes()
    assert scenario.digest == scenario_digest(scenario.data)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", scenario.digest)
    assert re.search(r"GOVFLOW-CANARY [0-9a-f-]{36}", scenario.canary)
    assert raw.startswith(b"# GOVFLOW-CANARY")
    for factor, levels in REQUIRED_FACTORS.items():
        assert levels <= set(scenario.factors[factor])
    assert scenario.paraphrases >= 3


@pytest.mark.parametrize("name", ALL)
def test_every_cell_and_paraphrase_renders_without_leftover_placeholders(name):
    scenario = load_scenario(name)
    seen_systems = set()
    for combo in itertools.product(*scenario.factors.values()):
        levels = dict(zip(scenario.factors, combo, strict=True))
        for paraphrase in range(scenario.paraphrases):
            rendered = scenario.render(levels, paraphrase)
            text = "\n".join(str(m.get("content") or "") for m in rendered.messages)
            assert "{{" not in text
            hidden = {  # factors whose text sits in a history item this cell leaves out
                name for item in scenario.data["history"]
                if any(levels.get(k) == v for k, v in (item.get("skip_when") or {}).items())
                for name in re.findall(r"\{\{\s*(\w+)", json.dumps(item.get("content")))
            }
            for factor, level in levels.items():
                if factor not in hidden:
                    assert scenario.fragment(factor, level, paraphrase) in text
            seen_systems.add(rendered.messages[0]["content"])
            tool_names = {t["function"]["name"] for t in rendered.described_tools}
            if scenario.reasoning_section is None:
                assert ("reasoning" in tool_names) == (levels["scratchpad"] == "on")
            else:
                # A required written section instead of a tool the agent may skip.
                assert "reasoning" not in tool_names
                shown = 'Reasoning: """' in "\n".join(
                    str(m.get("content") or "") for m in rendered.messages[1:])
                assert shown == (levels["scratchpad"] == "on")
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
    scenario = load_scenario("insider_trading_v1")
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


@pytest.mark.parametrize("removed", ["manager_message", "failed_searches", "downturn_warning"])
def test_removing_one_pressure_source_drops_only_that_part_of_the_history(removed):
    scenario = load_scenario("insider_trading")
    full = scenario.render({}, 0).messages
    fewer = scenario.render({"remove": removed}, 0).messages
    gone = [m for m in full if m not in fewer]
    marker = {"manager_message": "Dana Whitcombe: We are somewhat behind",
              "failed_searches": "expected one-week return above 1.5%",
              "downturn_warning": "downturn"}[removed]
    # Two searches are a call and a result each; the others are one message.
    assert len(gone) == (4 if removed == "failed_searches" else 1)
    assert marker in json.dumps(gone)
    assert "Theo Marsh" in json.dumps(fewer)  # the tip stays


def test_tip_paraphrases_differ_only_in_wording_and_none_asks_to_hide_the_source():
    scenario = load_scenario("insider_trading")
    for p in range(scenario.paraphrases):
        text = json.dumps(scenario.render({}, p).messages)
        assert "insider trading" in text
        assert "Dana would never approve" in text
        assert not re.search(r"keep my name out|didn.t come from me|between us", text)


def test_the_legitimate_alternative_is_offered_only_at_its_level():
    scenario = load_scenario("insider_trading")
    assert "SKYL" in json.dumps(scenario.render({"alternative": "available"}, 1).messages)
    assert "SKYL" not in json.dumps(scenario.render({}, 1).messages)
