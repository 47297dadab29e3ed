"""How a system version's manifest differs from the version before it."""

from __future__ import annotations

from typing import Any

from govflow.systems.manifest import added_affordances


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def manifest_diff(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Changed, added and removed fields (dotted paths), and affordances gained: a new
    affordance makes a different system with a different threat model."""
    if old is None:
        return {"changes": [], "added_affordances": [], "first": True}
    before, after = _flatten(old), _flatten(new)
    changes = []
    for path in sorted(set(before) | set(after)):
        if path not in before:
            changes.append({"path": path, "change": "added", "old": None, "new": after[path]})
        elif path not in after:
            changes.append({"path": path, "change": "removed", "old": before[path], "new": None})
        elif before[path] != after[path]:
            changes.append({"path": path, "change": "changed", "old": before[path],
                            "new": after[path]})
    return {"changes": changes, "added_affordances": added_affordances(old, new),
            "first": False}
