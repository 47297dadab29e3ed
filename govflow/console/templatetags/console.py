"""Template helpers of the console: evidence links, JSON, numbers."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.urls import reverse

register = template.Library()

# Evidence lists whose items link somewhere: key → URL for an item id.
_LINKS = {
    "documents": lambda i: reverse("evidence-download", args=[i]),
    "open": lambda i: f"#finding-{i}",
    "findings": lambda i: f"#finding-{i}",
    "sanctions": lambda i: reverse("console:oversight") + f"#sanction-{i}",
}


@register.filter
def evidence_items(evidence: dict[str, Any]) -> list[dict[str, Any]]:
    """A gate's evidence as display items: linked lists where we know where an id goes,
    compact JSON for everything else."""
    items = []
    for key, value in (evidence or {}).items():
        link = _LINKS.get(key)
        if link and isinstance(value, list) and all(isinstance(v, dict) and "id" in v
                                                    for v in value):
            items.append({"key": key, "linked": True, "links": [
                {"url": link(v["id"]), "label": v.get("name") or f"#{v['id']}",
                 "detail": ", ".join(f"{k} {str(x)[:16]}" for k, x in v.items()
                                     if k not in ("id", "name"))}
                for v in value]})
        else:
            items.append({"key": key, "text": json.dumps(value, sort_keys=True)[:400]})
    return items


@register.filter
def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


@register.filter
def rate(metric: dict[str, Any] | None, method: str = "clopper_pearson") -> str:
    if not metric or not metric.get("n"):
        return "–"
    lower, upper = metric[method]
    return f"{metric['k']}/{metric['n']} = {metric['rate']:.2f} [{lower:.2f}, {upper:.2f}]"


@register.filter
def flop(value: float | None) -> str:
    return "not declared" if value is None else f"{value:.3g} FLOP"


@register.filter
def shortid(value: str, length: int = 12) -> str:
    return f"{value[:length]}…" if value and len(value) > length else value
