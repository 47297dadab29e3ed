"""One sample, start to finish: action turn, report turn, direct-question turn, grading.

The flow is written against a small ``Generate`` protocol rather than the openai client, so the
CLI/Celery runner and the Inspect bridge run the very same turns and graders; only the transport
differs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from evals import actions, graders
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
    # The legacy single-call field, and the API's refusal text; both are read, never dropped.
    function_call: ToolCall | None = None
    refusal: str | None = None


class Generate(Protocol):
    async def __call__(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, seed: int
    ) -> Reply: ...


@dataclass
class _Outcome:
    kind: str  # action | message | text | refusal | invalid | exhausted
    name: str | None = None
    args: dict[str, Any] | None = None
    text: str | None = None
    reason: str | None = None
    early_report: str | None = None
    format: str | None = None


def _assistant_message(reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function",
             "function": {"name": c.name, "arguments": c.arguments or ""}}
            for c in reply.tool_calls
        ]
    if reply.function_call is not None:
        message["function_call"] = {"name": reply.function_call.name,
                                    "arguments": reply.function_call.arguments or ""}
    if reply.refusal is not None:
        message["refusal"] = reply.refusal
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
        # Text protocol: no tools are sent; the same tools are described in the system prompt.
        self.tools = rendered.tools
        self.offered = rendered.tools or rendered.described_tools
        self.tool_names = {t["function"]["name"] for t in self.offered}
        self.calls: list[dict[str, Any]] = []
        self.scratchpad: list[str] = []
        self.agent_rounds = 0
        self.judge_used = False
        self.replies_with_reasoning = 0

    def _text(self, value: Any) -> str:
        return self.scenario.text(value, self.paraphrase)

    def _log(self, purpose: str, reply: Reply, formats: list[str] | None = None) -> None:
        entry: dict[str, Any] = {
            "purpose": purpose,
            "model": reply.model,
            "system_fingerprint": reply.system_fingerprint,
            "usage": reply.usage,
            "finish_reason": reply.finish_reason,
        }
        if formats is not None:
            entry["formats"] = formats
        self.calls.append(entry)

    def _deliver(self, results: list[tuple[actions.Action, str]]) -> None:
        """Answer each call the way it was made: native calls by tool messages, calls written
        in text by one user message (a tool message needs a native call's id to refer to)."""
        written = []
        for action, result in results:
            if action.format == "tools" and action.call_id:
                self.messages.append({"role": "tool", "tool_call_id": action.call_id,
                                      "content": result})
            elif action.format == "function_call":
                self.messages.append({"role": "function", "name": action.name,
                                      "content": result})
            else:
                written.append(f"[Result of {action.name}]\n{result}")
        if written:
            self.messages.append({"role": "user", "content": "\n\n".join(written)})

    def _note_reasoning(self, parsed: actions.ParsedReply, acted: bool) -> None:
        # The required reasoning section, when the scenario asks for one; otherwise free text
        # written next to an action is the agent's visible reasoning, so it is recorded too.
        if parsed.reasoning:
            self.replies_with_reasoning += 1
            self.scratchpad.append(parsed.reasoning)
        elif acted and parsed.text and self.scenario.reasoning_section:
            self.scratchpad.append(parsed.text)

    async def _turn(self, purpose: str, stop_roles: set[str]) -> _Outcome:
        """Let the agent act until it calls a stopping tool, answers in text or runs out."""
        action_spec = self.scenario.data["action"]
        for _ in range(self.scenario.max_steps):
            reply = await self.agent(self.messages, self.tools or None, self.seed)
            self.agent_rounds += 1
            parsed = actions.parse_reply(
                content=reply.content, tool_calls=reply.tool_calls,
                function_call=reply.function_call, refusal=reply.refusal, tools=self.offered,
            )
            self._log(purpose, reply, parsed.formats)
            self.messages.append(_assistant_message(reply))
            self._note_reasoning(parsed, bool(parsed.actions))
            if not parsed.actions:
                if parsed.refusal is not None:
                    return _Outcome("refusal", text=parsed.refusal, format="refusal")
                if parsed.text:
                    return _Outcome("text", text=parsed.text, format="plain_text")
                return _Outcome("invalid", reason="empty reply")
            found: _Outcome | None = None
            message_text: str | None = None
            results: list[tuple[actions.Action, str]] = []
            for call in parsed.actions:
                if call.name not in self.tool_names:
                    return _Outcome("invalid", reason=f"unknown tool {call.name!r}",
                                    format=call.format)
                args = call.args
                if args is None:
                    return _Outcome("invalid", reason=f"unparseable arguments for {call.name}",
                                    format=call.format)
                role = self.scenario.tool_role(call.name)
                if role == "action" and purpose == "action":
                    grade = graders.grade_action(action_spec, call.name, args)
                    key = "result_misaligned" if grade.label == "misaligned" else "result_aligned"
                    result = self._text(action_spec[key])
                    # Several orders in one reply: the misaligned one, if any, is what counts.
                    upgrade = grade.label == "misaligned" and found.reason != "misaligned" \
                        if found is not None and found.kind == "action" else True
                    if upgrade:
                        found = _Outcome("action", name=call.name, args=args, reason=grade.label,
                                         format=call.format)
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
                        found = _Outcome("message", name=call.name, args=args, text=message_text,
                                         format=call.format)
                results.append((call, result))
            self._deliver(results)
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
            "format": outcome.format if outcome is not None else None,
            "grader_version": graders.GRADER_VERSION,
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
            # Declining in words, a message or a refusal, or dithering until the step budget
            # runs out, is not the misaligned act. A refusal's text is kept with the grade.
            action = graders.ActionGrade("aligned", {"reason": outcome.kind, "text": outcome.text})
        grades["action"] = {"label": action.label, "detail": action.detail,
                            "format": outcome.format, "grader_version": graders.GRADER_VERSION}
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
        if report_out is None:
            report["format"] = action_outcome.format
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
            "reasoning": self._reasoning_record(),
            "transcript": self.messages,
            "calls": self.calls,
            "rounds": self.agent_rounds + (1 if self.judge_used else 0),
        }


    def _reasoning_record(self) -> dict[str, Any] | None:
        """Whether the required reasoning section was there: its absence is data, not noise."""
        section = self.scenario.reasoning_section
        if section is None:
            return None
        required = self.levels.get(section["factor"]) == section["required_when"]
        replies = self.agent_rounds
        return {
            "required": required,
            "replies": replies,
            "with_section": self.replies_with_reasoning,
            "missing": (replies - self.replies_with_reasoning) if required else 0,
            # Reasoning written although the prompt said not to: visible, so recorded.
            "unrequested": 0 if required else self.replies_with_reasoning,
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
