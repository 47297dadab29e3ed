"""Template helpers of the console: evidence links, JSON, numbers."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()

# Where an id in gate evidence points, by the key it sits under: key → URL for the id.
# Ids under other keys are shown as values; nothing is guessed.
_LINKS = {
    "documents": lambda i: reverse("evidence-download", args=[i]),
    "open": lambda i: f"#finding-{i}",
    "findings": lambda i: f"#finding-{i}",
    "sanctions": lambda i: reverse("console:oversight") + f"#sanction-{i}",
    "assignments": lambda i: f"#assignment-{i}",
    "run": lambda i: f"#run-{i}",
    "runs": lambda i: f"#run-{i}",
    "certificates": lambda i: reverse("console:oversight") + f"#certificate-{i}",
}
_NONE = mark_safe('<span class="muted">none</span>')
_DEPTH = 6  # deeper evidence is shown as compact JSON: a gate's evidence is shallow


def _label(key: str) -> str:
    return key.replace("_", " ")


def _scalar(key: str, value: Any) -> str:
    if value is None:
        return _NONE
    if isinstance(value, bool):
        return format_html('<span class="badge {}">{}</span>', "ok" if value else "bad",
                           "yes" if value else "no")
    link = _LINKS.get(key)
    if link and isinstance(value, int):
        return format_html('<a href="{}">#{}</a>', link(value), value)
    if isinstance(value, float):
        return format_html("{}", f"{value:.4g}")
    text = str(value)
    if len(text) > 24 and ("sha256:" in text or all(c in "0123456789abcdef" for c in text)):
        return format_html('<code title="{}">{}…</code>', text, text[:19])
    return format_html("{}", text)


def _value(key: str, value: Any, depth: int) -> str:
    if depth >= _DEPTH:
        return format_html("<code>{}</code>", json.dumps(value, sort_keys=True)[:400])
    if isinstance(value, dict):
        if not value:
            return _NONE
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>",
                                ((_label(k), _value(k, v, depth + 1))
                                 for k, v in value.items()))
        return format_html('<table class="kv">{}</table>', rows)
    if isinstance(value, list):
        if not value:
            return _NONE
        if all(isinstance(v, dict) for v in value):
            link = _LINKS.get(key)
            if link and all("id" in v for v in value):
                return format_html_join(", ", "{}{}", (
                    (format_html('<a href="{}">{}</a>', link(v["id"]),
                                 v.get("name") or f"#{v['id']}"),
                     format_html(" <small class=\"muted\">{}</small>", ", ".join(
                         f"{k} {str(x)[:16]}" for k, x in v.items() if k not in ("id", "name")))
                     if len(v) > 1 else "")
                    for v in value))
            return format_html_join("", "<div>{}</div>",
                                    ((_value(key, v, depth + 1),) for v in value))
        return format_html_join(", ", "{}", ((_scalar(key, v),) for v in value))
    return _scalar(key, value)


@register.filter
def evidence_html(evidence: dict[str, Any]) -> str:
    """A gate's evidence as readable values: a key/value table, lists of records as
    nested tables, ids as links where the key says what they name, digests shortened
    (the full digest in the title)."""
    return _value("", evidence or {}, 0)


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
