"""One sample, start to finish: action turn, report turn, direct-question turn, grading.

The flow is written against a small ``Generate`` protocol rather than the openai client, so the
CLI/Celery runner and the Inspect bridge run the very same turns and graders; only the transport
differs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from evals import graders
from evals.scenarios import Scenario


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str | None


@dataclass
class Reply:
    content: str | None
    tool_calls: list[ToolCall]
    model: str | None = None
    system_fingerprint: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    finish_reason: str | None = None


class Generate(Protocol):
    async def __call__(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, seed: int
    ) -> Reply: ...


@dataclass
class _Outcome:
    kind: str  # action | message | text | invalid | exhausted
    name: str | None = None
    args: dict[str, Any] | None = None
    text: str | None = None
    reason: str | None = None
    early_report: str | None = None


def _assistant_message(reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function",
             "function": {"name": c.name, "arguments": c.arguments or ""}}
            for c in reply.tool_calls
        ]
    return message


class Episode:
    def __init__(
        self,
        scenario: Scenario,
        factors: dict[str, str],
        paraphrase: int,
        seed: int,
        agent: Generate,
        judge: Generate | None,
    ) -> None:
        self.scenario = scenario
        self.paraphrase = paraphrase
        self.seed = seed
        self.agent = agent
        self.judge = judge
        self.levels = scenario.levels_for(factors)
        rendered = scenario.render(self.levels, paraphrase)
        self.messages = rendered.messages
        self.tools = rendered.tools
        self.tool_names = {t["function"]["name"] for t in rendered.tools}
        self.calls: list[dict[str, Any]] = []
        self.scratchpad: list[str] = []
        self.agent_rounds = 0
        self.judge_used = False

    def _text(self, value: Any) -> str:
        return self.scenario.text(value, self.paraphrase)

    def _log(self, purpose: str, reply: Reply) -> None:
        self.calls.append({
            "purpose": purpose,
            "model": reply.model,
            "system_fingerprint": reply.system_fingerprint,
            "usage": reply.usage,
            "finish_reason": reply.finish_reason,
        })

    async def _turn(self, purpose: str, stop_roles: set[str]) -> _Outcome:
        """Let the agent act until it calls a stopping tool, answers in text or runs out."""
        action_spec = self.scenario.data["action"]
        for _ in range(self.scenario.max_steps):
            reply = await self.agent(self.messages, self.tools, self.seed)
            self.agent_rounds += 1
            self._log(purpose, reply)
            self.messages.append(_assistant_message(reply))
            if not reply.tool_calls:
                if reply.content and reply.content.strip():
                    return _Outcome("text", text=reply.content)
                return _Outcome("invalid", reason="empty reply")
            found: _Outcome | None = None
            message_text: str | None = None
            for call in reply.tool_calls:
                if call.name not in self.tool_names:
                    return _Outcome("invalid", reason=f"unknown tool {call.name!r}")
                args = graders.parse_arguments(call.arguments)
                if args is None:
                    return _Outcome("invalid", reason=f"unparseable arguments for {call.name}")
                role = self.scenario.tool_role(call.name)
                if role == "action" and purpose == "action":
                    grade = graders.grade_action(action_spec, call.name, args)
                    key = "result_misaligned" if grade.label == "misaligned" else "result_aligned"
                    result = self._text(action_spec[key])
                    # Several orders in one reply: the misaligned one, if any, is what counts.
                    upgrade = grade.label == "misaligned" and found.reason != "misaligned" \
                        if found is not None and found.kind == "action" else True
                    if upgrade:
                        found = _Outcome("action", name=call.name, args=args, reason=grade.label)
                elif role == "action":
                    result = self._text(action_spec["result_aligned"])
                elif role == "search":
                    result = self._text(self.scenario.data.get("search_result", "No results."))
                elif role == "scratchpad":
                    self.scratchpad.append(str(args.get("thought", "")))
                    result = "(noted)"
                else:
                    message_text = str(args.get(self.scenario.data["report"]["argument"], ""))
                    result = "Message sent."
                    if found is None and "message" in stop_roles:
                        found = _Outcome("message", name=call.name, args=args, text=message_text)
                self.messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
            if found is not None:
                if found.kind == "action" and message_text is not None:
                    # Trade and report in one reply: the report turn needs no extra call.
                    found.early_report = message_text
                return found
        return _Outcome("exhausted", reason=f"no decision within {self.scenario.max_steps} steps")

    async def _judge_text(self, turn: str, prompt: str | None, text: str) -> tuple[str, str | None]:
        assert self.judge is not None
        spec = self.scenario.data[turn]
        messages = graders.judge_messages(
            scenario=self.scenario.name, turn=turn, criteria=str(spec["judge"]),
            prompt=prompt, text=text,
        )
        reply = await self.judge(messages, None, self.seed)
        self._log(f"judge_{turn}", reply)
        return graders.parse_verdict(reply.content), reply.content

    def _text_grade(self, turn: str, outcome: _Outcome | None, text: str | None) -> dict[str, Any]:
        rules = self.scenario.data[turn]["rules"]
        if outcome is not None and outcome.kind in {"invalid", "exhausted"}:
            rule = {"label": "invalid", "disclose": [], "deny": []}
        else:
            rule = graders.rule_grade_text(rules, text)
        return {
            "label": rule["label"],
            "rule": rule["label"],
            "judge": None,
            "judge_reply": None,
            "text": text,
            "rule_detail": {"disclose": rule["disclose"], "deny": rule["deny"]},
            "reason": outcome.reason if outcome is not None else None,
        }

    async def _grade_with_judge(self, turn: str, grade: dict[str, Any], prompt: str | None) -> None:
        if self.judge is None or grade["rule"] == "invalid":
            return
        self.judge_used = True
        verdict, raw = await self._judge_text(turn, prompt, grade["text"] or "")
        grade["judge"] = verdict
        grade["judge_reply"] = raw
        grade["label"] = graders.combine(grade["rule"], verdict)

    async def run(self) -> dict[str, Any]:
        grades: dict[str, Any] = {"action": None, "report": None, "question": None}
        outcome = await self._turn("action", {"action", "message"})
        if outcome.kind == "action":
            action = graders.grade_action(self.scenario.data["action"], outcome.name, outcome.args)
        elif outcome.kind == "invalid":
            action = graders.ActionGrade("invalid", {"reason": outcome.reason})
        else:
            # Declining in words or a message, or dithering until the step budget runs out,
            # is not the misaligned act.
            action = graders.ActionGrade("aligned", {"reason": outcome.kind, "text": outcome.text})
        grades["action"] = {"label": action.label, "detail": action.detail}
        if action.label == "misaligned":
            await self._after_misaligned(outcome, grades)
        return self._result(grades)

    async def _after_misaligned(self, action_outcome: _Outcome, grades: dict[str, Any]) -> None:
        report_prompt = self._text(self.scenario.data["action"]["result_misaligned"])
        if action_outcome.early_report is not None:
            report_out = None
            report_text: str | None = action_outcome.early_report
        else:
            report_out = await self._turn("report", {"message"})
            report_text = report_out.text
        report = self._text_grade("report", report_out, report_text)
        grades["report"] = report
        if report["rule"] == "invalid":
            return
        # The report's judge call runs while the agent answers the question: neither needs the
        # other, and it keeps one judge round off each sample's critical path.
        report_judge = asyncio.ensure_future(
            self._grade_with_judge("report", report, report_prompt)
        )
        try:
            question_prompt = self._text(self.scenario.data["question"]["prompt"])
            self.messages.append({"role": "user", "content": question_prompt})
            answer_out = await self._turn("question", {"message"})
            answer = self._text_grade("question", answer_out, answer_out.text)
            grades["question"] = answer
            await self._grade_with_judge("question", answer, question_prompt)
        except BaseException:
            report_judge.cancel()
            raise
        await report_judge

    def _result(self, grades: dict[str, Any]) -> dict[str, Any]:
        labels = [grades["action"]["label"]] + [
            grades[t]["label"] for t in ("report", "question") if grades[t] is not None
        ]
        return {
            "status": "invalid" if "invalid" in labels else "ok",
            "grades": grades,
            "scratchpad": self.scratchpad,
            "transcript": self.messages,
            "calls": self.calls,
            "rounds": self.agent_rounds + (1 if self.judge_used else 0),
        }


async def run_episode(
    scenario: Scenario,
    factors: dict[str, str],
    paraphrase: int,
    seed: int,
    agent: Generate,
    judge: Generate | None,
) -> dict[str, Any]:
    return await Episode(scenario, factors, paraphrase, seed, agent, judge).run()
