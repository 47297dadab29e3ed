"""`GET /api/releases/{id}/dossier`: the release dossier as HTML, or PDF with
`?format=pdf` or `Accept: application/pdf`. Same access as the release itself."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.views import APIView

from govflow.console.dossier import dossier_html, html_to_pdf
from govflow.core.schema import errors


class _Document(BaseRenderer):
    """Lets content negotiation pick a document format; the view writes the bytes
    itself, and an error is answered in JSON like every other API error."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


class HTMLDocument(_Document):
    media_type, format = "text/html", "html"


class PDFDocument(_Document):
    media_type, format = "application/pdf", "pdf"


class ReleaseDossier(APIView):
    renderer_classes = [HTMLDocument, PDFDocument]

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code >= 400 and hasattr(response, "data"):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["html", "pdf"],
                                     description="pdf for a PDF; the default is HTML")],
        responses={(200, "text/html"): str, (200, "application/pdf"): bytes,
                   **errors(401, 404)},
    )
    def get(self, request, pk: int):
        """The release dossier: system and manifest changes, stage timeline, every gate
        decision with its evidence, eval results, findings and conclusions, sign-offs,
        holds and incidents, and the log checkpoint it was made from with the command
        that verifies it offline."""
        html = dossier_html(request.user, pk)
        if request.accepted_renderer.format == "pdf":
            response = HttpResponse(html_to_pdf(html), content_type="application/pdf")
            response["Content-Disposition"] = (
                f'inline; filename="govflow-release-{pk}-dossier.pdf"')
            return response
        return HttpResponse(html, content_type="text/html; charset=utf-8")
