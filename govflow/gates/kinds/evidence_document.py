"""Gate kind `evidence_document`: named documents must be attached to the release.

For example an interpretability report or a red-team report, uploaded through the
API and identified by the SHA-256 of its bytes.
"""

from __future__ import annotations

from govflow.gates.params import Param
from govflow.gates.registry import GateKind, GateResult


def evaluate(params, ctx) -> GateResult:
    from govflow.releases.models import EvidenceDocument

    docs = list(
        EvidenceDocument.objects.filter(
            release=ctx.release, document_type=params["document_type"]
        ).order_by("id")
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
)
