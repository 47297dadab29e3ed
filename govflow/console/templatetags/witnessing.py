"""`{% witness_banner %}`: a banner on every console page while a witness refuses the log."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join

from govflow.audit.selectors import witness_refusals_open

register = template.Library()


@register.simple_tag
def witness_banner() -> str:
    refusals = witness_refusals_open()
    if not refusals:
        return ""
    items = format_html_join(
        "", "<li>{} refused checkpoint {} (HTTP {}{}): {}</li>",
        ((e.payload.get("witness"), e.payload.get("checkpoint_size"), e.payload.get("status"),
          f", it holds size {e.payload['witness_size']}"
          if e.payload.get("witness_size") is not None else "",
          e.payload.get("reason")) for e in refusals),
    )
    return format_html(
        '<div class="banner bad" id="witness-refusal" role="alert"><strong>A witness refuses '
        "this log's history.</strong> The log may have been rewritten or forked; checkpoints "
        "it refused are not independently vouched for.<ul>{}</ul></div>", items,
    )


@register.simple_tag
def witness_flags() -> str:
    """The verifier's --witness/--quorum flags for the witnesses this log asks (a regulator
    should pin the witnesses *she* trusts; these are the lab's list, shown for convenience)."""
    from django.conf import settings

    witnesses = settings.GOVFLOW_WITNESSES
    if not witnesses:
        return ""
    lines = format_html_join("", " \\\n    --witness '{}'", ((w.vkey,) for w in witnesses))
    return format_html("{} --quorum {}", lines, len(witnesses))
