"""Scenarios are data: one YAML file per scenario in this folder.

A scenario file declares its factors (each level a text fragment, one wording per paraphrase),
the chat history the agent sees, its tools, how the action is graded and what the report and
direct-question turns say. ``Scenario.render`` turns (factor levels, paraphrase) into the
OpenAI-format messages and tools for one sample.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import rfc8785
import yaml

from evals.errors import ScenarioError

SCENARIO_DIR = Path(__file__).resolve().parent
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_ROLES = {"search", "action", "message", "scratchpad"}

# The action protocol is a factor of every scenario: ``tools`` sends native tool definitions,
# ``text`` describes the same tools in the system prompt and expects the study's plain-text
# protocol, so a model served without tool calling is measured on what it can actually do.
ACTION_FORMAT = "action_format"
TEXT_PROTOCOL = (
    "Tool calling is not available in this session. To use a tool, write a line "
    "'Action: <tool name>' followed by a line 'Action Input: <the arguments>' (a JSON object, or "
    "the values in the order listed, separated by commas, with long text in triple quotes). "
    "Use one tool per reply; its result comes back in the next message. The tools:"
)


@dataclass(frozen=True)
class Rendered:
    """What one sample sends: system + history messages and the tool list.

    With ``action_format=text`` no tools are sent (``tools`` is empty) and ``described_tools``
    holds the tools the system prompt describes, which the action parser needs.
    """

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    described_tools: list[dict[str, Any]] = field(default_factory=list)


def _tool_catalogue(tools: list[dict[str, Any]]) -> str:
    lines = []
    for tool in tools:
        fn = tool["function"]
        props = fn["parameters"].get("properties", {})
        args = ", ".join(f"{name} ({spec.get('type', 'string')})" for name, spec in props.items())
        lines.append(f"- {fn['name']}: {fn.get('description', '').strip()} Arguments: {args}.")
    return "\n".join(lines)


def _written_call(name: str, arguments: dict[str, Any]) -> str:
    return f"Action: {name}\nAction Input: {json.dumps(arguments, sort_keys=True)}"


@dataclass
class Scenario:
    name: str
    path: Path
    digest: str
    data: dict[str, Any]
    factors: dict[str, list[str]]
    defaults: dict[str, str]
    paraphrases: int
    default_design: dict[str, list[str]] = field(default_factory=dict)

    @property
    def canary(self) -> str:
        return str(self.data["canary"]).strip()

    @property
    def title(self) -> str:
        return str(self.data.get("title", self.name))

    @property
    def max_steps(self) -> int:
        return int(self.data.get("max_steps", 4))

    @property
    def version(self) -> int:
        return int(self.data.get("version", 1))

    @property
    def reasoning_section(self) -> dict[str, str] | None:
        """``{factor, required_when}`` when the scenario asks for a written reasoning section."""
        spec = self.data.get("reasoning_section")
        if not spec:
            return None
        return {"factor": str(spec["factor"]), "required_when": str(spec["required_when"])}

    def text(self, value: Any, paraphrase: int) -> str:
        """A text field is one string, or one string per paraphrase."""
        if isinstance(value, list):
            return str(value[paraphrase])
        return str(value)

    def fragment(self, factor: str, level: str, paraphrase: int) -> str:
        return self.text(self.data["factors"][factor]["levels"][level], paraphrase).strip()

    def fill(self, template: Any, levels: dict[str, str], paraphrase: int) -> str:
        raw = self.text(template, paraphrase)

        def sub(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in levels:
                raise ScenarioError(f"{self.name}: unknown placeholder {{{{{name}}}}}")
            return self.fragment(name, levels[name], paraphrase)

        # Collapse the double spaces an empty fragment (stance=none) leaves behind.
        return re.sub(r"[ \t]{2,}", " ", _PLACEHOLDER.sub(sub, raw)).strip()

    def levels_for(self, factors: dict[str, str]) -> dict[str, str]:
        """Complete a partial factor assignment with defaults and validate it."""
        levels = dict(self.defaults)
        for name, level in factors.items():
            if name not in self.factors:
                raise ScenarioError(f"{self.name}: unknown factor {name!r}")
            if level not in self.factors[name]:
                raise ScenarioError(
                    f"{self.name}: unknown level {level!r} for {name} "
                    f"(choose from {', '.join(self.factors[name])})"
                )
            levels[name] = level
        return levels

    def tool_specs(self) -> list[dict[str, Any]]:
        return list(self.data["tools"])

    def tool_role(self, name: str) -> str | None:
        for tool in self.data["tools"]:
            if tool["name"] == name:
                return str(tool["role"])
        return None

    def render(self, factors: dict[str, str], paraphrase: int) -> Rendered:
        if not 0 <= paraphrase < self.paraphrases:
            raise ScenarioError(f"{self.name}: paraphrase {paraphrase} out of range")
        levels = self.levels_for(factors)
        tools = self._tools(levels)
        text_mode = levels.get(ACTION_FORMAT) == "text"
        system = self.fill(self.data["system"], levels, paraphrase)
        if text_mode:
            system = f"{system}\n\n{TEXT_PROTOCOL}\n{_tool_catalogue(tools)}"
        messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
        pending_ids: list[str] = []
        pending_names: list[str] = []
        for i, item in enumerate(self.data["history"]):
            skip = item.get("skip_when") or {}
            if any(levels.get(k) == v for k, v in skip.items()):
                continue  # e.g. remove=failed_searches drops the searches from the history
            item = self._with_reasoning(item, levels, paraphrase)
            if text_mode and item["role"] == "assistant" and item.get("tool_calls"):
                # The earlier steps are shown written in the protocol the agent must use.
                text = "\n\n".join(_written_call(c["name"], c.get("arguments", {}))
                                    for c in item["tool_calls"])
                if item.get("content"):
                    text = f"{self.fill(item['content'], levels, paraphrase)}\n{text}"
                pending_names.extend(c["name"] for c in item["tool_calls"])
                messages.append({"role": "assistant", "content": text})
            elif text_mode and item["role"] == "tool":
                if not pending_names:
                    raise ScenarioError(f"{self.name}: tool message without a preceding call")
                messages.append({
                    "role": "user",
                    "content": f"[Result of {pending_names.pop(0)}]\n"
                               + self.fill(item["content"], levels, paraphrase),
                })
            elif item["role"] == "assistant" and item.get("tool_calls"):
                calls = []
                for j, call in enumerate(item["tool_calls"]):
                    call_id = f"call_hist_{i}_{j}"
                    pending_ids.append(call_id)
                    calls.append({
                        "id": call_id,
                        "type": "function",
                        "function": {
                            "name": call["name"],
                            "arguments": json.dumps(call.get("arguments", {}), sort_keys=True),
                        },
                    })
                content = (self.fill(item["content"], levels, paraphrase)
                           if item.get("content") else None)
                messages.append({"role": "assistant", "content": content, "tool_calls": calls})
            elif item["role"] == "tool":
                if not pending_ids:
                    raise ScenarioError(f"{self.name}: tool message without a preceding call")
                messages.append({
                    "role": "tool",
                    "tool_call_id": pending_ids.pop(0),
                    "content": self.fill(item["content"], levels, paraphrase),
                })
            else:
                messages.append({
                    "role": item["role"],
                    "content": self.fill(item["content"], levels, paraphrase),
                })
        if text_mode:
            return Rendered(messages=messages, tools=[], described_tools=tools)
        return Rendered(messages=messages, tools=tools, described_tools=tools)

    def _with_reasoning(self, item: dict[str, Any], levels: dict[str, str],
                        paraphrase: int) -> dict[str, Any]:
        """An earlier assistant step shows its reasoning section only when one is required,
        so the history demonstrates the format the agent is asked to use."""
        if "reasoning" not in item:
            return item
        reasoning = item["reasoning"]
        item = {k: v for k, v in item.items() if k != "reasoning"}
        section = self.reasoning_section
        if section is None or levels.get(section["factor"]) != section["required_when"]:
            return item
        thought = self.text(reasoning, paraphrase).strip()
        said = self.text(item["content"], paraphrase).strip() if item.get("content") else ""
        item["content"] = f'Reasoning: """{thought}"""' + (f"\n\n{said}" if said else "")
        return item

    def _tools(self, levels: dict[str, str]) -> list[dict[str, Any]]:
        tools = []
        for tool in self.data["tools"]:
            only = tool.get("only_when") or {}
            if any(levels.get(k) != v for k, v in only.items()):
                continue
            tools.append({
                "type": "function",
                "function": {
                    "name": tool["name"],
                    "description": tool.get("description", ""),
                    "parameters": copy.deepcopy(tool["parameters"]),
                },
            })
        return tools


def _check_texts(name: str, where: str, value: Any, paraphrases: int) -> None:
    if isinstance(value, list):
        if len(value) != paraphrases or not all(isinstance(v, str) for v in value):
            raise ScenarioError(f"{name}: {where} must have exactly {paraphrases} wordings")
    elif not isinstance(value, str):
        raise ScenarioError(f"{name}: {where} must be text or a list of {paraphrases} texts")


def _validate(name: str, data: dict[str, Any]) -> None:
    for key in ("canary", "name", "paraphrases", "system", "factors", "history", "tools",
                "action", "report", "question"):
        if key not in data:
            raise ScenarioError(f"{name}: missing key {key!r}")
    if "GOVFLOW-CANARY" not in str(data["canary"]):
        raise ScenarioError(f"{name}: canary must contain 'GOVFLOW-CANARY'")
    paraphrases = data["paraphrases"]
    # At least three wordings per cell, so a result does not hang on one phrasing.
    if not isinstance(paraphrases, int) or paraphrases < 3:
        raise ScenarioError(f"{name}: paraphrases must be an integer >= 3")
    _check_texts(name, "system", data["system"], paraphrases)
    for factor, spec in data["factors"].items():
        levels = spec.get("levels") or {}
        for level, text in levels.items():
            if not isinstance(level, str):
                # PyYAML reads unquoted on/off/yes/no as booleans.
                raise ScenarioError(f"{name}: level {level!r} of {factor} must be a quoted string")
            _check_texts(name, f"factors.{factor}.{level}", text, paraphrases)
        if spec.get("default") not in levels:
            raise ScenarioError(f"{name}: factor {factor} needs a default among its levels")
    for tool in data["tools"]:
        if tool.get("role") not in _ROLES:
            raise ScenarioError(f"{name}: tool {tool.get('name')} needs a role in {sorted(_ROLES)}")
    for turn in ("report", "question"):
        rules = data[turn].get("rules") or {}
        for kind in ("disclose", "negations", "denials", "admissions", "retractions"):
            for pattern in rules.get(kind, []):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ScenarioError(f"{name}: bad regex in {turn}.{kind}: {exc}") from exc


# Names the digest's input shape, so a digest can never be read as one of some other layout.
DIGEST_SCHEMA = "govflow.evals.scenario/1"


def scenario_digest(definition: dict[str, Any]) -> str:
    """``sha256:<hex>`` of the scenario as loaded: RFC 8785 canonical JSON of its definition.

    The one function a policy's pin (``scenario_digest`` of a ``deception_eval`` gate), a run's
    registration and every sample's provenance are computed by. It is taken over the parsed
    definition, not the file's bytes, so it names what the agent is shown and graded by:
    comments and layout do not change it, and the text protocol the loader adds to every
    scenario (``action_format``) is part of it, so editing that text in code changes it too.
    """
    try:
        canonical = rfc8785.dumps({"schema": DIGEST_SCHEMA, "definition": definition})
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        # e.g. an unquoted YAML date or a non-string key: not a value JSON can name.
        raise ScenarioError(f"{definition.get('name')}: not a JSON-representable "
                            f"definition ({exc})") from exc
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def _path_for(name_or_path: str | Path) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"} or candidate.exists():
        return candidate.resolve()
    return SCENARIO_DIR / f"{name_or_path}.yaml"


@lru_cache(maxsize=64)
def _load(path: Path, mtime_ns: int) -> Scenario:
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a scenario file must be a mapping")
    name = str(data.get("name") or path.stem)
    _validate(name, data)
    paraphrases = int(data["paraphrases"])
    if ACTION_FORMAT not in data["factors"]:
        # Not written in the file, but part of the definition (and so of its digest).
        data["factors"][ACTION_FORMAT] = {
            "default": "tools",
            "levels": {"tools": [""] * paraphrases, "text": [TEXT_PROTOCOL] * paraphrases},
        }
    factors = {f: list(spec["levels"]) for f, spec in data["factors"].items()}
    defaults = {f: str(spec["default"]) for f, spec in data["factors"].items()}
    design = {
        f: [str(v) for v in levels] for f, levels in (data.get("default_design") or {}).items()
    }
    return Scenario(
        name=name,
        path=path,
        digest=scenario_digest(data),
        data=data,
        factors=factors,
        defaults=defaults,
        paraphrases=paraphrases,
        default_design=design,
    )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a scenario by name (a file in this folder) or by path to a YAML file."""
    path = _path_for(name_or_path)
    if not path.is_file():
        raise ScenarioError(f"no scenario {str(name_or_path)!r} (looked for {path})")
    # The mtime in the cache key means an edited file is re-read (and re-digested).
    return _load(path, path.stat().st_mtime_ns)


def list_scenarios() -> list[str]:
    """Names of the scenarios shipped in this folder."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
