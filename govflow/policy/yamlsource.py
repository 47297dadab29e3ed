"""Load YAML into plain Python values while remembering the line of every path.

Policy errors must point at a line a person can open in an editor, so we compose
the YAML node graph ourselves instead of using ``yaml.safe_load``, which forgets
where values came from.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import yaml


@dataclass
class Located:
    value: Any
    lines: dict[str, int] = field(default_factory=dict)  # path -> 1-based line

    def line(self, path: str) -> int | None:
        # Fall back to the nearest enclosing path that has a line.
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""


class YamlSyntaxError(ValueError):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


def _convert(node: yaml.Node, path: str, lines: dict[str, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader.construct_scalar(_LOADER, key_node)  # type: ignore[arg-type]
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlSyntaxError("mapping keys must be plain strings", lines[path])
            if key in out:
                raise YamlSyntaxError(f"key {key!r} appears twice", key_node.start_mark.line + 1)
            child = f"{path}.{key}" if path else str(key)
            out[str(key)] = _convert(value_node, child, lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, f"{path}[{i}]", lines) for i, item in enumerate(node.value)]
    value = _LOADER.construct_object(node, deep=True)
    # YAML turns 2026-01-01 into a date; policies are JSON-shaped data, digested as
    # canonical JSON, so keep such values as the text that was written.
    if isinstance(value, (datetime.date, datetime.datetime)):
        return node.value
    return value


_LOADER = yaml.SafeLoader("")


def load_located(text: str) -> Located:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlSyntaxError(
            f"YAML syntax error: {exc.problem or exc}", mark.line + 1 if mark else None
        ) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"YAML error: {exc}", None) from exc
    if node is None:
        return Located(value=None)
    lines: dict[str, int] = {}
    return Located(value=_convert(node, "", lines), lines=lines)
