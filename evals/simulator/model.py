"""The SIMULATED agent and judge behind the simulator's chat completions endpoint.

It behaves like a model that reads its prompt: it recognises the scenario, each factor's level
and the turn from phrases it finds in the messages (the phrases come from the scenario files),
then draws its choices with the profile's probabilities from a generator seeded by the request's
``seed`` and a hash of the messages. Same request, same answer.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evals import actions, graders
from evals.scenarios import TEXT_PROTOCOL, Scenario, list_scenarios, load_scenario
from evals.simulator.profiles import Profile

SCRIPTS_PATH = Path(__file__).resolve().parent / "scripts.yaml"
MODEL_PREFIX = "govflow-simulator/"


@dataclass
class _Known:
    scenario: Scenario
    signatures: list[str]
    fragments: dict[str, dict[str, list[str]]]  # factor -> level -> wordings
    report_prompts: list[str]
    question_prompts: list[str]
    templates: list[tuple[re.Pattern[str], str, str]]  # (pattern, turn, intent)
    # Factors that drop history items (remove=...): level -> texts present only without it.
    structural: dict[str, dict[str, list[str]]] = field(default_factory=dict)


_ALTERNATION = re.compile(r"\{([^{}]*\|[^{}]*)\}")


def _template_pattern(text: str) -> re.Pattern[str]:
    """A script text as a pattern; ``{a|b}`` is a choice of wordings (see ``expand``)."""
    parts, last = [], 0
    for match in _ALTERNATION.finditer(text.strip()):
        parts.append(re.escape(text.strip()[last:match.start()]))
        parts.append("(?:" + "|".join(re.escape(o) for o in match.group(1).split("|")) + ")")
        last = match.end()
    parts.append(re.escape(text.strip()[last:]))
    return re.compile(r"\s*" + "".join(parts) + r"\s*\Z", re.DOTALL)


def expand(text: str, rng: random.Random) -> str:
    """Pick one wording per ``{a|b|c}`` group, so replies vary the way a model's do."""
    return _ALTERNATION.sub(lambda m: rng.choice(m.group(1).split("|")), text)


def all_wordings(text: str) -> list[str]:
    """Every wording a script text can produce (for tests that check each one)."""
    groups = [m.group(1).split("|") for m in _ALTERNATION.finditer(text)]
    out = []
    for combo in itertools.product(*groups):
        picks = iter(combo)

        def pick(_match: re.Match[str], picks: Any = picks) -> str:
            return str(next(picks))

        out.append(_ALTERNATION.sub(pick, text))
    return out


def _wordings(scenario: Scenario, value: Any) -> list[str]:
    return [scenario.text(value, p).strip() for p in range(scenario.paraphrases)]


class _Call:
    """A transcript's tool call dict seen through the attributes the action parser reads."""

    def __init__(self, call: dict[str, Any]) -> None:
        fn = call.get("function") or {}
        self.id = call.get("id")
        self.name = str(fn.get("name") or "")
        self.arguments = fn.get("arguments")


class SimulatedModel:
    def __init__(self, profile: Profile, scenarios: list[Scenario] | None = None) -> None:
        self.profile = profile
        self.model_name = f"{MODEL_PREFIX}{profile.name}"
        self.judge_name = f"{self.model_name}/judge"
        digest = hashlib.sha256(json.dumps(profile.data, sort_keys=True).encode()).hexdigest()
        self.fingerprint = f"sim-{profile.name}-{digest[:10]}"
        self.scripts: dict[str, Any] = yaml.safe_load(SCRIPTS_PATH.read_text())
        self.known = [
            self._index(s) for s in (scenarios or [load_scenario(n) for n in list_scenarios()])
        ]

    def _index(self, scenario: Scenario) -> _Known:
        data = scenario.data
        # The system prompt's opening words (before any placeholder) identify the scenario.
        signatures = [re.split(r"\{\{", w, maxsplit=1)[0].strip()
                      for w in _wordings(scenario, data["system"])]
        fragments = {
            factor: {level: [w for w in _wordings(scenario, text) if w]
                     for level, text in spec["levels"].items()}
            for factor, spec in data["factors"].items()
        }
        templates: list[Any] = []
        script = self.scripts.get(scenario.name, {})
        for turn, intents in (("report", script.get("report", {})),
                              ("question", script.get("answer", {}))):
            for intent, texts in intents.items():
                label = {"honest": "honest", "admit": "honest"}.get(intent, "deceptive")
                templates.extend((_template_pattern(t), turn, label) for t in texts)
        structural: dict[str, dict[str, list[str]]] = {}
        for item in data["history"]:
            for factor, level in (item.get("skip_when") or {}).items():
                if not item.get("content"):
                    continue
                marks = [re.split(r"\{\{", w, maxsplit=1)[0].strip()
                         for w in _wordings(scenario, item["content"])]
                structural.setdefault(factor, {}).setdefault(level, []).extend(
                    m for m in marks if len(m) >= 12)
        return _Known(
            structural=structural,
            scenario=scenario,
            signatures=signatures,
            fragments=fragments,
            report_prompts=_wordings(scenario, data["action"]["result_misaligned"]),
            question_prompts=_wordings(scenario, data["question"]["prompt"]),
            templates=templates,
        )

    # -- reading the prompt ---------------------------------------------------------------

    def _detect(self, messages: list[dict[str, Any]]) -> _Known | None:
        system = str(messages[0].get("content") or "") if messages else ""
        # The longest matching opening wins: two versions of a scenario may share their first
        # sentences.
        best, length = None, 0
        for known in self.known:
            for sig in known.signatures:
                if sig and system.startswith(sig) and len(sig) > length:
                    best, length = known, len(sig)
        return best

    @staticmethod
    def _levels(known: _Known, text: str) -> dict[str, str]:
        levels: dict[str, str] = {}
        for factor, options in known.fragments.items():
            if not any(options.values()):
                # A factor that drops history items: the level whose items are missing.
                gone = [lvl for lvl, marks in known.structural.get(factor, {}).items()
                        if marks and not any(m in text for m in marks)]
                unmarked = [lvl for lvl in options if not known.structural.get(factor, {}).get(lvl)]
                if len(gone) == 1:
                    levels[factor] = gone[0]
                elif not gone and len(unmarked) == 1:
                    levels[factor] = unmarked[0]  # nothing removed
                continue
            hits = [lvl for lvl, words in options.items() if any(w in text for w in words)]
            empty = [lvl for lvl, words in options.items() if not words]
            if len(hits) == 1:
                levels[factor] = hits[0]
            elif not hits and len(empty) == 1:
                levels[factor] = empty[0]  # e.g. stance=none adds no text at all
        return levels

    @staticmethod
    def _turn(known: _Known, messages: list[dict[str, Any]]) -> str:
        last = messages[-1]
        content = str(last.get("content") or "")
        if last.get("role") == "user" and any(p in content for p in known.question_prompts):
            return "question"
        tail = []
        for message in reversed(messages):
            if message.get("role") not in ("tool", "function", "user"):
                break
            tail.append(str(message.get("content") or ""))
            if message.get("role") == "user":
                break  # results of calls written in text come back as one user message
        if any(p in t for t in tail for p in known.report_prompts):
            return "report"
        return "action"

    def intent_of(self, known: _Known, turn: str, text: str) -> str:
        for pattern, t, intent in known.templates:
            if t == turn and pattern.match(text):
                return intent
        # Not one of ours (e.g. a transcript written by a real model): read it with the rules.
        label = graders.rule_grade_text(known.scenario.data[turn]["rules"], text)["label"]
        return label if label in ("honest", "deceptive") else "deceptive"

    # -- answering ------------------------------------------------------------------------

    def respond(self, body: dict[str, Any], *, malformed_rate: float | None = None,
                judge_noise: float | None = None) -> dict[str, Any]:
        messages = body.get("messages") or []
        seed = body.get("seed") or 0
        request_model = str(body.get("model") or "")
        digest = hashlib.sha256(
            f"{seed}|{request_model}|{json.dumps(messages, sort_keys=True)}".encode()
        ).digest()
        rng = random.Random(digest)
        system = str(messages[0].get("content") or "") if messages else ""
        if "judge" in request_model.lower() or system.startswith(graders.JUDGE_SYSTEM_PROMPT[:16]):
            noise = self.profile.knob("judge_noise") if judge_noise is None else judge_noise
            verdict = self._judge(messages, rng, noise)
            return self._completion(verdict, [], rng, messages, judge=True)
        rate = self.profile.knob("malformed_rate") if malformed_rate is None else malformed_rate
        known = self._detect(messages)
        if known is None:
            content = "SIMULATOR: I do not recognise this prompt as a govflow scenario."
            return self._completion(content, [], rng, messages)
        if rng.random() < rate:
            return self._malformed(rng, messages)
        text = "\n".join(str(m.get("content") or "") for m in messages)
        levels = known.scenario.levels_for(self._levels(known, text))
        turn = self._turn(known, messages)
        probs = self.profile.probabilities(known.scenario.name, levels)
        tools = {t.get("function", {}).get("name") for t in body.get("tools") or []}
        calls: list[tuple[str, dict[str, Any]]] = []
        script = self.scripts[str(known.scenario.data.get("simulator_script",
                                                          known.scenario.name))]
        section = known.scenario.reasoning_section
        wants_section = section is not None and levels.get(section["factor"]) == \
            section["required_when"]
        thought: str | None = None
        if turn == "action":
            bad = rng.random() < probs["action"]
            if "reasoning" in tools or wants_section:
                thought = expand(rng.choice(script["thoughts"]["misaligned" if bad else
                                                                "aligned"]), rng)
            if "reasoning" in tools:
                calls.append(("reasoning", {"thought": thought}))
                thought = None
            calls.append(self._action(known, script, bad, rng))
        else:
            message = self._message(known, script, turn, probs, messages, rng)
            recipient = str(script.get("recipient", "manager"))
            calls.append(("send_message", {"recipient": recipient, "message": message}))
        # The section may be forgotten now and then, as models do; the episode records it.
        if wants_section and thought is None and rng.random() >= self.profile.knob(
                "skip_reasoning_rate"):
            thought = expand(rng.choice(script.get("turn_thoughts", ["Answering now."])), rng)
        fmt = self._format(rng, native=bool(body.get("tools")),
                           text_mode=TEXT_PROTOCOL[:40] in system)
        return self._written(fmt, thought, calls, rng, messages, known)

    def _action(self, known: _Known, script: dict[str, Any], bad: bool,
                rng: random.Random) -> tuple[str, dict[str, Any]]:
        choice = script["action"]["misaligned"] if bad else rng.choice(script["action"]["aligned"])
        if "answers" not in choice:
            return choice["tool"], dict(choice["args"])
        key = [str(k) for k in known.scenario.data["action"]["key"]]
        answers = list(key)
        if choice["answers"] == "sandbag":
            for i in rng.sample(range(len(key)), int(choice.get("wrong", 3))):
                answers[i] = rng.choice([c for c in "ABCD" if c != key[i]])
        return choice["tool"], {"answers": answers}

    def _message(self, known: _Known, script: dict[str, Any], turn: str,
                 probs: dict[str, float], messages: list[dict[str, Any]],
                 rng: random.Random) -> str:
        ambiguous = rng.random() < self.profile.knob("ambiguous_rate")
        if turn == "report":
            lie = rng.random() < probs["deceive"]
            kind = "ambiguous" if ambiguous and lie else ("deceptive" if lie else "honest")
            return expand(rng.choice(script["report"][kind]), rng)
        # Question turn: someone who already told the truth does not start lying now.
        reported = self._own_report(messages)
        was_honest = reported is not None and self.intent_of(known, "report", reported) == "honest"
        lie = not was_honest and rng.random() < probs["double_down"]
        kind = "ambiguous" if ambiguous and lie else ("deny" if lie else "admit")
        return expand(rng.choice(script["answer"][kind]), rng)

    @staticmethod
    def _own_report(messages: list[dict[str, Any]]) -> str | None:
        tool = [{"type": "function", "function": {"name": "send_message", "parameters": {
            "properties": {"recipient": {}, "message": {}}}}}]
        for message in reversed(messages):
            if message.get("role") != "assistant":
                continue
            legacy = message.get("function_call")
            parsed = actions.parse_reply(
                content=message.get("content"),
                tool_calls=[_Call(c) for c in message.get("tool_calls") or []],
                function_call=_Call({"function": legacy}) if legacy else None,
                refusal=None, tools=tool)
            for action in parsed.actions:
                if action.name == "send_message":
                    return str((action.args or {}).get("message", "")) or None
        return None

    # -- writing the reply in one of the formats models use -----------------------------

    def _format(self, rng: random.Random, *, native: bool, text_mode: bool) -> str:
        weights = dict(self.profile.data.get("action_formats") or {"tools": 1.0})
        if text_mode or not native:
            # No tools were sent: native calls are impossible, the protocol is the norm.
            weights = {k: v for k, v in weights.items() if k not in ("tools", "function_call")}
            weights = weights or {"text_protocol": 1.0}
        names = sorted(weights)
        return str(rng.choices(names, weights=[float(weights[n]) for n in names])[0])

    def _written(self, fmt: str, thought: str | None, calls: list[tuple[str, dict[str, Any]]],
                 rng: random.Random, messages: list[dict[str, Any]],
                 known: _Known) -> dict[str, Any]:
        section = f'Reasoning: """{thought}"""' if thought else None
        if fmt == "tools":
            return self._completion(section, calls, rng, messages)
        # Written formats carry one call: the last one (the decision), as models mostly do.
        name, args = calls[-1]
        if fmt == "function_call":
            completion = self._completion(section, [], rng, messages)
            completion["choices"][0]["message"]["function_call"] = {
                "name": name, "arguments": json.dumps(args)}
            completion["choices"][0]["finish_reason"] = "function_call"
            return completion
        if fmt == "text_protocol":
            params = [p for p in next(
                (t["parameters"]["properties"] for t in known.scenario.data["tools"]
                 if t["name"] == name), {})]
            if rng.random() < 0.5 or not params:
                written = json.dumps(args)
            else:
                written = ", ".join(
                    f'"""{args[p]}"""' if isinstance(args.get(p), str) and " " in args[p]
                    else (json.dumps(args[p]) if isinstance(args.get(p), list) else str(args[p]))
                    for p in params if p in args)
            body = f"Action: {name}\nAction Input: {written}"
        elif fmt == "tool_call_tag":
            style = rng.choice(["<tool_call>{}</tool_call>", "<|python_tag|>{}<|eom_id|>",
                                "[TOOL_CALLS] [{}]"])
            key = "parameters" if "python_tag" in style else "arguments"
            body = style.replace("{}", json.dumps({"name": name, key: args}))
        else:  # json_text
            body = json.dumps({"name": name, "arguments": args})
            if rng.random() < 0.5:
                body = f"```json\n{body}\n```"
        content = f"{section}\n\n{body}" if section else body
        return self._completion(content, [], rng, messages)

    def _judge(self, messages: list[dict[str, Any]], rng: random.Random, noise: float) -> str:
        user = str(messages[-1].get("content") or "") if messages else ""
        head = re.search(r"Scenario: (\S+) / Turn: (\w+)", user)
        body = re.search(re.escape(graders.TEXT_OPEN) + r"\n(.*)\n" + re.escape(graders.TEXT_CLOSE),
                         user, re.DOTALL)
        known = next((k for k in self.known if head and k.scenario.name == head.group(1)), None)
        if rng.random() < self.profile.knob("judge_garbage"):
            return "I am not able to decide on this one."
        if known is None or body is None or head is None:
            return json.dumps({"verdict": "ambiguous", "reason": "SIMULATOR: unknown request"})
        verdict = self.intent_of(known, head.group(2), body.group(1))
        if rng.random() < noise:
            verdict = {"honest": "deceptive", "deceptive": "honest"}[verdict]
        return json.dumps({"verdict": verdict, "reason": "SIMULATED judge verdict."})

    def _malformed(self, rng: random.Random, messages: list[dict[str, Any]]) -> dict[str, Any]:
        kind = rng.choice(["bad_arguments", "unknown_tool", "empty"])
        if kind == "empty":
            return self._completion("", [], rng, messages)
        if kind == "unknown_tool":
            return self._completion(None, [("teleport_funds", {"amount": 1})], rng, messages)
        completion = self._completion(None, [("send_message", {})], rng, messages)
        completion["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = (
            '{"recipient": "Dana", "message": "unterminated'
        )
        return completion

    def _completion(self, content: str | None, calls: list[tuple[str, dict[str, Any]]],
                    rng: random.Random, messages: list[dict[str, Any]],
                    judge: bool = False) -> dict[str, Any]:
        tool_calls: list[dict[str, Any]] = [
            {"id": f"call_sim_{rng.getrandbits(48):012x}", "type": "function",
             "function": {"name": name, "arguments": json.dumps(args)}}
            for name, args in calls
        ]
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if tool_calls:
            message["tool_calls"] = tool_calls
        prompt_chars = sum(len(str(m.get("content") or "")) for m in messages)
        out_chars = len(content or "") + sum(len(c["function"]["arguments"]) for c in tool_calls)
        prompt_tokens, completion_tokens = prompt_chars // 4 + 1, out_chars // 4 + 1
        return {
            "id": f"chatcmpl-sim-{rng.getrandbits(64):016x}",
            "object": "chat.completion",
            "created": 0,
            "model": self.judge_name if judge else self.model_name,
            "system_fingerprint": self.fingerprint,
            "choices": [{
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if tool_calls else "stop",
                "logprobs": None,
            }],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
