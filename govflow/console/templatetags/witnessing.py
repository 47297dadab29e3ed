"""Banners on every console page about the log itself: a witness refuses it
(`witness_banner`), sequencing is stopped by an alarm (`alarm_banner`), or, for
regulators, the governed tables drifted from it (`drift_banner`)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join

from govflow.accounts.access import is_regulator
from govflow.audit.selectors import drift_now, sequencing_alarms_open, witness_refusals_open

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
def alarm_banner() -> str:
    alarms = sequencing_alarms_open()
    if not alarms:
        return ""
    items = format_html_join("", "<li>event {} (alarm {}, {}): {}</li>",
                             ((a.event_id, a.pk, a.raised_at, a.reason) for a in alarms))
    return format_html(
        '<div class="banner bad" id="sequencing-alarm" role="alert"><strong>Audit log '
        "sequencing is stopped.</strong> A row was written to the log past govflow and its "
        "hash disagrees with its bytes; nothing after it is signed until it is quarantined "
        "(<code>manage.py audit alarms</code>).<ul>{}</ul></div>", items,
    )


@register.simple_tag
def drift_banner(user) -> str:
    if not is_regulator(user):
        return ""
    run = drift_now()
    if run is None:
        return ""
    items = format_html_join("", "<li>{}</li>", ((line,) for line in run.drift[:10]))
    more = f" (the first 10 of {run.count})" if run.count > 10 else ""
    return format_html(
        '<div class="banner bad" id="log-drift" role="alert"><strong>The governed tables '
        "disagree with the audit log in {} place(s){}</strong>, found by the reconciliation "
        "of {}. The log is what checkpoints sign; a table that disagrees was changed past "
        "govflow's services.<ul>{}</ul></div>", run.count, more, run.ran_at, items,
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
