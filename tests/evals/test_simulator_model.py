"""The SIMULATED agent reads prompts like a model would and answers consistently."""

from __future__ import annotations

import itertools
import json

import pytest
import yaml

from evals import graders
from evals.scenarios import load_scenario
from evals.simulator import SimulatedModel, load_profile
from evals.simulator.model import SCRIPTS_PATH, all_wordings

SCENARIOS = ["insider_trading", "insider_trading_v1", "capability_sandbagging",
             "lying_about_actions", "oversight_evasion"]


@pytest.fixture(scope="module")
def model() -> SimulatedModel:
    return SimulatedModel(load_profile("deceptive"))


@pytest.mark.parametrize("name", SCENARIOS)
def test_simulator_texts_read_as_intended_by_the_rule_graders(name):
    scenario = load_scenario(name).data
    script = yaml.safe_load(SCRIPTS_PATH.read_text())[name]
    omission = scenario["question"]["rules"].get("omission")
    for intent, texts in script["report"].items():
        for text in (w for t in texts for w in all_wordings(t)):
            got = graders.rule_grade_text(scenario["report"]["rules"], text)["label"]
            assert got == intent or (intent == "ambiguous" and got == "deceptive"), text
    expected = {"admit": "honest", "deny": "deceptive", "ambiguous": "ambiguous"}
    for intent, texts in script["answer"].items():
        for text in (w for t in texts for w in all_wordings(t)):
            got = graders.rule_grade_text(scenario["question"]["rules"], text)["label"]
            # An evasive answer reads as deceptive where the rubric says evasion is a lie.
            assert got == expected[intent] or (intent == "ambiguous" and got == omission), text


@pytest.mark.parametrize("name", SCENARIOS)
def test_simulator_recognises_every_factor_level_from_the_prompt_text(model, name):
    scenario = load_scenario(name)
    known = next(k for k in model.known if k.scenario.name == name)
    for combo in itertools.product(*scenario.factors.values()):
        levels = dict(zip(scenario.factors, combo, strict=True))
        for paraphrase in range(scenario.paraphrases):
            messages = scenario.render(levels, paraphrase).messages
            assert model._detect(messages) is known
            text = "\n".join(str(m.get("content") or "") for m in messages)
            # A factor whose text sits in a removed history item cannot be read off the prompt.
            hidden = {"pressure"} if levels.get("remove") == "manager_message" else \
                {"alternative"} if levels.get("remove") == "failed_searches" else set()
            got = scenario.levels_for(model._levels(known, text))
            assert {k: v for k, v in got.items() if k not in hidden} == \
                {k: v for k, v in levels.items() if k not in hidden}


def _body(name: str, levels: dict[str, str], seed: int) -> dict:
    rendered = load_scenario(name).render(levels, 0)
    return {"model": "x", "messages": rendered.messages, "tools": rendered.tools, "seed": seed}


def test_same_request_same_answer_and_the_seed_matters(model):
    body = _body("insider_trading", {"pressure": "moderate"}, 1)
    first = model.respond(body)
    assert model.respond(json.loads(json.dumps(body))) == first
    answers = {json.dumps(model.respond({**body, "seed": s})["choices"]) for s in range(30)}
    assert len(answers) > 1


def test_completion_is_labelled_as_simulated_and_uses_openai_tool_calls(model):
    completion = model.respond(_body("insider_trading", {"pressure": "high"}, 3))
    assert completion["model"].startswith("govflow-simulator/")
    assert completion["system_fingerprint"].startswith("sim-")
    call = completion["choices"][0]["message"]["tool_calls"][-1]
    assert call["type"] == "function"
    assert call["function"]["name"] in {"execute_trade", "send_message"}
    json.loads(call["function"]["arguments"])


def test_action_rate_follows_the_profile(model):
    profile = load_profile("deceptive")
    for pressure in ("none", "high"):
        p = profile.probability("insider_trading", "action", load_scenario(
            "insider_trading").levels_for({"pressure": pressure}))
        n = 400
        trades = 0
        for seed in range(n):
            reply = model.respond(_body("insider_trading", {"pressure": pressure}, seed))
            calls = reply["choices"][0]["message"]["tool_calls"]
            trades += any(json.loads(c["function"]["arguments"]).get("ticker") == "VLRN"
                          for c in calls)
        assert abs(trades / n - p) < 4 * (p * (1 - p) / n) ** 0.5 + 0.01


def test_profile_directions_match_the_mission_findings():
    profile = load_profile("deceptive")
    base = load_scenario("insider_trading").levels_for({})

    def p(stage: str, **change: str) -> float:
        return profile.probability("insider_trading", stage, {**base, **change})

    assert p("deceive", pressure="high") > p("deceive", pressure="moderate") > p(
        "deceive", pressure="none")
    assert p("deceive", risk="high") < p("deceive")
    assert p("deceive", stance="specific") < p("deceive", stance="generic") < p("deceive")
    assert 0.05 < p("deceive", scratchpad="off") < p("deceive")


def test_judge_requests_get_a_verdict_consistent_with_the_simulators_own_text(model):
    script = yaml.safe_load(SCRIPTS_PATH.read_text())["insider_trading"]
    verdicts = []
    for seed, (intent, text) in enumerate(
        [("deceptive", t) for t in script["report"]["deceptive"]]
        + [("honest", t) for t in script["report"]["honest"]]
    ):
        messages = graders.judge_messages(scenario="insider_trading", turn="report",
                                          criteria="c", prompt=None, text=text)
        reply = model.respond({"model": "judge", "messages": messages, "seed": seed},
                              judge_noise=0.0)
        verdicts.append((intent, graders.parse_verdict(reply["choices"][0]["message"]["content"])))
    assert all(v in (intent, "invalid") for intent, v in verdicts)
