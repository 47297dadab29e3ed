"""Gate kind `evidence_document`: named documents must be attached to the release.

For example an interpretability report or a red-team report, uploaded through the
API and identified by the SHA-256 of its bytes.
"""

from __future__ import annotations

from govflow.gates.params import Param
from govflow.gates.registry import GateKind, GateResult


def prefetch(releases) -> None:
    from django.db.models import Prefetch, prefetch_related_objects

    from govflow.releases.models import EvidenceDocument

    prefetch_related_objects(
        releases, Prefetch("evidence", queryset=EvidenceDocument.objects.order_by("id"))
    )


def evaluate(params, ctx) -> GateResult:
    # `evidence.all()` is the release's documents, from `prefetch` when it ran (one query
    # for a page of releases), else one query; filtered here so both read the same rows.
    docs = sorted(
        (d for d in ctx.release.evidence.all() if d.document_type == params["document_type"]),
        key=lambda d: d.pk,
    )
    need = params["min_count"]
    evidence = {
        "documents": [{"id": d.pk, "name": d.name, "sha256": d.sha256} for d in docs],
    }
    if len(docs) >= need:
        return GateResult(
            True, f"{len(docs)} {params['document_type']} document(s) attached", evidence
        )
    return GateResult(
        False,
        f"needs {need} {params['document_type']} document(s), {len(docs)} attached",
        evidence,
    )


KIND = GateKind(
    name="evidence_document",
    description="Documents of a given type must be attached to the release.",
    params={
        "document_type": Param("str", help="e.g. red_team_report, interpretability_report"),
        "min_count": Param("int", required=False, default=1, minimum=1),
    },
    evaluate=evaluate,
    prefetch=prefetch,
)
