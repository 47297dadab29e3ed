"""A small schema language for gate parameters.

Policies are written by people, so every check returns a message naming the
parameter and what would be accepted, never a Python exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The value types a parameter may declare. "stage" is a string that must name a
# stage of the same policy; "roles" is a mapping of role name -> positive count.
TYPES = ("int", "number", "str", "bool", "stage", "str_list", "mapping")


@dataclass(frozen=True)
class Param:
    type: str
    required: bool = True
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    help: str = ""

    def describe(self) -> str:
        text = self.type
        if self.choices:
            text += " (one of: " + ", ".join(self.choices) + ")"
        if self.minimum is not None:
            text += f", at least {self.minimum:g}"
        if self.maximum is not None:
            text += f", at most {self.maximum:g}"
        if not self.required:
            text += f", optional (default {self.default!r})"
        return text


def check_value(param: Param, value: Any, *, stages: list[str]) -> str | None:
    """Return a problem with ``value`` for ``param``, or None when it is acceptable."""
    kind = param.type
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be a whole number, got {value!r}"
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a number, got {value!r}"
    elif kind in ("str", "stage"):
        if not isinstance(value, str) or not value.strip():
            return f"must be a non-empty string, got {value!r}"
        if kind == "stage" and value not in stages:
            return f"names stage {value!r}, which this policy does not have; stages: " + ", ".join(
                stages
            )
    elif kind == "bool":
        if not isinstance(value, bool):
            return f"must be true or false, got {value!r}"
    elif kind == "str_list":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            return f"must be a list of strings, got {value!r}"
    elif kind == "mapping" and not isinstance(value, dict):
        return f"must be a mapping, got {value!r}"
    if param.choices is not None:
        values = value if isinstance(value, list) else [value]
        bad = [v for v in values if v not in param.choices]
        if bad:
            return f"{bad[0]!r} is not one of: {', '.join(param.choices)}"
    if param.minimum is not None and isinstance(value, (int, float)) and value < param.minimum:
        return f"must be at least {param.minimum:g}, got {value!r}"
    if param.maximum is not None and isinstance(value, (int, float)) and value > param.maximum:
        return f"must be at most {param.maximum:g}, got {value!r}"
    return None
