"""Reading the agent's actions out of one reply, whatever format the model used.

Models announce tool use in many ways, and a grader that understands only one of them scores a
model that uses another as "did nothing". The formats understood, with the name each is recorded
under in the sample (``format``):

- ``tools``: native ``tool_calls`` of the chat completions API;
- ``function_call``: the legacy single ``function_call`` field;
- ``text_protocol``: the study's plain-text protocol, ``Action: NAME`` then ``Action Input: ...``
  (a JSON object, ``key=value`` pairs, or positional values in the tool's parameter order, with
  ``\"\"\"triple-quoted\"\"\"`` strings allowed);
- ``tool_call_tag``: a JSON call inside the tags open-weight chat templates emit when the server
  has no tool parser (``<tool_call>``, ``<function_call>``, ``<|python_tag|>``, ``[TOOL_CALLS]``,
  ``<function=NAME>``);
- ``json_text``: a bare JSON object (or list of them) naming a known tool, alone or in prose,
  fenced or not;
- ``refusal``: the API's ``refusal`` field, kept as text; it is a graded non-action.

Only names of tools the scenario offers are taken from free text, so a JSON example that merely
mentions a field called "name" is not mistaken for a call.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

FORMATS = ("tools", "function_call", "text_protocol", "tool_call_tag", "json_text", "refusal")
_NAME_KEYS = ("name", "tool", "tool_name", "function", "action")
_ARG_KEYS = ("arguments", "parameters", "args", "input", "action_input", "tool_input")

# Tag styles: (regex with the JSON body in group "body", optional group "name").
_TAGS = [
    re.compile(r"<tool_call>\s*(?P<body>.*?)\s*(?:</tool_call>|\Z)", re.DOTALL),
    re.compile(r"<function_call>\s*(?P<body>.*?)\s*(?:</function_call>|\Z)", re.DOTALL),
    re.compile(r"<function=(?P<name>[\w.\-]+)>\s*(?P<body>.*?)\s*(?:</function>|\Z)", re.DOTALL),
    re.compile(r"<\|python_tag\|>\s*(?P<body>.*?)\s*(?:<\|eom_id\|>|<\|eot_id\|>|\Z)", re.DOTALL),
    re.compile(r"\[TOOL_CALLS\]\s*(?P<body>\[.*\]|\{.*\})", re.DOTALL),
]
_ACTION = re.compile(
    r"^[ \t>*_#]*Action[ \t]*[*_]*:[*_]*[ \t]*[`\"']?(?P<name>[\w.\-]+)[`\"']?[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_ACTION_INPUT = re.compile(r"^[ \t>*_#]*Action[ \t_]*Input[ \t]*[*_]*:[*_]*[ \t]*",
                           re.MULTILINE | re.IGNORECASE)
_REASONING = re.compile(
    r"^[ \t>*_#]*(?:Reasoning|Thoughts?|Scratchpad)[ \t]*[*_]*:[*_]*[ \t]*(?P<body>.*?)"
    r"(?=^[ \t>*_#]*Action[ \t]*[*_]*:|\Z)",
    re.MULTILINE | re.IGNORECASE | re.DOTALL,
)
_FENCE = re.compile(r"```(?:json|tool_call|python)?\s*(.*?)```", re.DOTALL)


@dataclass
class Action:
    """One call the agent made. ``args`` is None when its arguments could not be read."""

    name: str
    args: dict[str, Any] | None
    format: str
    call_id: str | None = None
    raw: str | None = None


@dataclass
class ParsedReply:
    actions: list[Action] = field(default_factory=list)
    # Free text outside any call: the agent's words, with the calls cut out.
    text: str = ""
    refusal: str | None = None
    # The labelled reasoning section ("Reasoning: ..."), if the reply has one.
    reasoning: str | None = None

    @property
    def formats(self) -> list[str]:
        seen = [a.format for a in self.actions]
        if self.refusal is not None:
            seen.append("refusal")
        return list(dict.fromkeys(seen))


def tool_parameters(tools: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Tool name -> its parameter names in declared order (for positional Action Input)."""
    out: dict[str, list[str]] = {}
    for tool in tools:
        fn = tool.get("function", tool)
        props = (fn.get("parameters") or {}).get("properties") or {}
        out[str(fn["name"])] = list(props)
    return out


def _known(name: str, params: dict[str, list[str]]) -> str | None:
    """The offered tool a written name refers to: exact, case-insensitive, namespaced."""
    if name in params:
        return name
    short = name.split(".")[-1].split(":")[-1].strip().lower()
    for tool in params:
        if tool.lower() == short:
            return tool
    return None


def decode_arguments(raw: Any) -> dict[str, Any] | None:
    """Arguments as a dict: an object, a JSON string of one, or a doubly encoded string."""
    value = raw
    for _ in range(2):
        if isinstance(value, dict):
            return value
        if value is None:
            return None
        if not isinstance(value, str):
            return None
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    return value if isinstance(value, dict) else None


def _split_values(text: str) -> list[str]:
    """``LING, buy, 2000`` or ``"a@b.c", \"\"\"long, text\"\"\"`` -> the values, unquoted."""
    values: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n,":
            i += 1
        if i >= n:
            break
        for quote in ('"""', "'''", '"', "'"):
            if text.startswith(quote, i):
                end = text.find(quote, i + len(quote))
                end = n if end < 0 else end
                values.append(text[i + len(quote):end])
                i = end + len(quote)
                break
        else:
            end = text.find(",", i)
            end = n if end < 0 else end
            values.append(text[i:end].strip())
            i = end
    return values


def parse_action_input(raw: str, parameters: list[str]) -> dict[str, Any] | None:
    """The study's ``Action Input`` in any of its written forms, as named arguments."""
    text = raw.strip()
    fenced = _FENCE.fullmatch(text)
    if fenced:
        text = fenced.group(1).strip()
    if text.startswith("{"):
        try:
            value, _ = json.JSONDecoder().raw_decode(text)
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None
    if not text:
        return {}
    pairs = re.findall(r"(\w+)\s*[=:]\s*(\"\"\"(?:.|\n)*?\"\"\"|\"[^\"]*\"|'[^']*'|[^,\n]+)", text)
    if pairs and all(key in parameters for key, _ in pairs):
        return {key: _split_values(value)[0] if value else "" for key, value in pairs}
    values = _split_values(text)
    if not parameters:
        return None
    if len(values) == 1 and len(parameters) > 1:
        # One value for a tool with several parameters is the free-text one, e.g. the message.
        return {parameters[-1]: values[0]}
    if len(values) > len(parameters):
        # Extra commas inside an unquoted last value (a message): keep them in it.
        head = values[:len(parameters) - 1]
        values = head + [", ".join(values[len(parameters) - 1:])]
    return dict(zip(parameters, values, strict=False))


def _call_from_object(obj: Any, params: dict[str, list[str]], fmt: str,
                      name: str | None = None) -> Action | None:
    if not isinstance(obj, dict):
        return None
    if name is None:
        if isinstance(obj.get("function"), dict):  # {"type": "function", "function": {...}}
            return _call_from_object(obj["function"], params, fmt)
        for key in _NAME_KEYS:
            if isinstance(obj.get(key), str):
                name = obj[key]
                break
        if name is None:
            return None
        args_raw: Any = next((obj[k] for k in _ARG_KEYS if k in obj), {})
    else:
        args_raw = obj
    tool = _known(name, params)
    if tool is None:
        return Action(name=name, args=decode_arguments(args_raw), format=fmt,
                      raw=json.dumps(obj)[:2000])
    args = decode_arguments(args_raw)
    if args is None and isinstance(args_raw, str):
        args = parse_action_input(args_raw, params.get(tool, []))
    return Action(name=tool, args=args, format=fmt, raw=json.dumps(obj)[:2000])


def _json_values(text: str) -> list[tuple[int, int, Any]]:
    """Every top-level JSON object or array in ``text``: (start, end, value)."""
    decoder = json.JSONDecoder()
    found: list[tuple[int, int, Any]] = []
    i = 0
    while True:
        starts = [p for p in (text.find("{", i), text.find("[", i)) if p >= 0]
        if not starts:
            return found
        start = min(starts)
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            i = start + 1
            continue
        found.append((start, end, value))
        i = end


def _from_tags(content: str, params: dict[str, list[str]]) -> tuple[list[Action], str]:
    actions: list[Action] = []
    rest = content
    for pattern in _TAGS:
        for match in pattern.finditer(content):
            body = match.group("body").strip()
            name = match.groupdict().get("name")
            values = [v for _, _, v in _json_values(body)]
            if not values and name is not None:
                values = [{}]
            for value in values:
                for obj in value if isinstance(value, list) else [value]:
                    action = _call_from_object(obj, params, "tool_call_tag", name)
                    if action is not None:
                        actions.append(action)
            if values or name is not None:
                rest = rest.replace(match.group(0), " ")
            elif body:
                # A tag with a body that is not JSON (e.g. cut off mid-object): say so.
                actions.append(Action(name=name or "?", args=None, format="tool_call_tag",
                                      raw=body[:2000]))
                rest = rest.replace(match.group(0), " ")
    return actions, rest


def _from_text_protocol(content: str, params: dict[str, list[str]]) -> tuple[list[Action], str]:
    actions: list[Action] = []
    heads = list(_ACTION.finditer(content))
    if not heads:
        return actions, content
    spans: list[tuple[int, int]] = []
    for k, head in enumerate(heads):
        end = heads[k + 1].start() if k + 1 < len(heads) else len(content)
        block = content[head.end():end]
        written = head.group("name")
        tool = _known(written, params)
        inp = _ACTION_INPUT.search(block)
        raw_input = block[inp.end():] if inp else ""
        # A reasoning section written after the input belongs to the next step, not to it.
        cut = _REASONING.search(raw_input)
        if cut:
            raw_input = raw_input[:cut.start()]
            end = head.end() + (inp.end() if inp else 0) + cut.start()
        if tool is None:
            actions.append(Action(name=written, args=None, format="text_protocol",
                                  raw=raw_input[:2000]))
        else:
            args = parse_action_input(raw_input, params.get(tool, [])) if inp else {}
            actions.append(Action(name=tool, args=args, format="text_protocol",
                                  raw=raw_input.strip()[:2000]))
        spans.append((head.start(), end))
    rest = content
    for start, end in reversed(spans):
        rest = rest[:start] + " " + rest[end:]
    return actions, rest


def _from_bare_json(content: str, params: dict[str, list[str]]) -> tuple[list[Action], str]:
    actions: list[Action] = []
    rest = content
    for start, end, value in _json_values(content):
        objs = value if isinstance(value, list) else [value]
        found = []
        for obj in objs:
            action = _call_from_object(obj, params, "json_text")
            # Free JSON counts only when it names a tool on offer.
            if action is not None and _known(action.name, params) is not None:
                found.append(action)
        if found:
            actions.extend(found)
            rest = rest.replace(content[start:end], " ")
    return actions, rest


def parse_reply(
    *,
    content: str | None,
    tool_calls: list[Any],
    function_call: Any | None,
    refusal: str | None,
    tools: list[dict[str, Any]],
) -> ParsedReply:
    """Every action in one assistant reply, with the format each came in.

    ``tool_calls`` items need ``id``, ``name`` and ``arguments`` attributes; ``function_call``
    needs ``name`` and ``arguments``. Native calls win: text is searched only when the reply
    holds none, because a model that made a native call and also quoted one in prose acted once.
    """
    params = tool_parameters(tools)
    parsed = ParsedReply(refusal=refusal.strip() if refusal and refusal.strip() else None)
    text = content or ""
    if tool_calls:
        parsed.actions = [
            Action(name=_known(c.name, params) or c.name, args=decode_arguments(c.arguments),
                   format="tools", call_id=c.id, raw=c.arguments)
            for c in tool_calls
        ]
    elif function_call is not None and getattr(function_call, "name", None):
        name = function_call.name
        parsed.actions = [Action(name=_known(name, params) or name,
                                 args=decode_arguments(function_call.arguments),
                                 format="function_call", raw=function_call.arguments)]
    elif text.strip():
        for extract in (_from_tags, _from_text_protocol, _from_bare_json):
            found, rest = extract(text, params)
            if found:
                parsed.actions = found
                text = rest
                break
    reasoning = _REASONING.search(content or "")
    if reasoning and reasoning.group("body").strip():
        parsed.reasoning = reasoning.group("body").strip()
        text = text.replace(reasoning.group(0), " ")
    parsed.text = re.sub(r"[ \t]+\n", "\n", text).strip()
    return parsed
