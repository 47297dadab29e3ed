"""The release dossier: one document a regulator can file, in HTML and PDF.

It is the release page's content (same selectors, same access rules: a release you may
not see is a 404) laid out for reading and printing, plus what a file needs besides: every
recorded gate decision with its evidence, and the signed log checkpoint it was made from
with the commands that check it offline. The dossier is a view of logged data, not
evidence in itself: the checkpoint note in it is what makes it checkable, since the
verifier accepts a bundle only if its log is consistent with that note.

The PDF is drawn by WeasyPrint from the same HTML and cached under the digest of that
HTML, so an unchanged release is drawn once.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone

from govflow.audit.models import Checkpoint
from govflow.console.selectors import release_page
from govflow.console.trail import checkpoint_witnesses

PDF_CACHE_SECONDS = 24 * 3600


def _decisions(transitions, titles: dict[str, str]) -> list[dict[str, Any]]:
    """Each recorded move with the gate report it was decided on (rollbacks and the
    opening carry none: they are not gated)."""
    return [
        {"transition": t, "from_title": titles.get(t.from_stage, t.from_stage),
         "to_title": titles.get(t.to_stage, t.to_stage), "report": t.gate_report}
        for t in transitions
    ]


def dossier_context(user, release_id: int) -> dict[str, Any]:
    context = release_page(user, release_id)
    policy, log = context["policy"], context["log"]
    titles = {s.name: s.title for s in policy.stages}
    checkpoint = Checkpoint.objects.filter(size=log.size).first() if log.size else None
    release = context["release"]
    bundle = f"govflow-release-{release.pk}.bundle.json"
    context.update({
        # the day, not the instant: the PDF is cached on the HTML, which must not change
        # with the clock alone
        "generated_on": timezone.now().date(),
        "decisions": _decisions(context["transitions"], titles),
        "checkpoint": checkpoint,
        "checkpoint_root": bytes(checkpoint.root_hash).hex() if checkpoint else "",
        "checkpoint_file": f"govflow-checkpoint-{log.size}.txt",
        "witnesses": checkpoint_witnesses(log.size) if log.ok and log.size else [],
        "bundle_file": bundle,
        "stage_titles": titles,
    })
    return context


def dossier_html(user, release_id: int) -> str:
    return render_to_string("console/dossier.html", dossier_context(user, release_id))


def html_to_pdf(html: str) -> bytes:
    """The PDF of a dossier's HTML (self-contained: inline CSS and SVG, no fetches)."""
    key = f"console:dossier-pdf:v1:{hashlib.sha256(html.encode()).hexdigest()}"
    pdf = cache.get(key)
    if pdf is None:
        from weasyprint import HTML

        # WeasyPrint reports every SVG presentation attribute it maps as an "ignored"
        # CSS property; a dossier's log would drown in them
        for name in ("weasyprint", "fontTools"):
            logging.getLogger(name).setLevel(logging.ERROR)
        pdf = HTML(string=html).write_pdf()
        cache.set(key, pdf, timeout=PDF_CACHE_SECONDS)
    return pdf
