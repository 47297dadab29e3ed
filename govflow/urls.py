from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from govflow.console.urls import public_urlpatterns

# Swagger UI's script comes from its own URL (the split view), so script-src stays strict;
# its styles are inline (a <style> block, and style attributes it sets as it renders).
api_docs = csp_update({"style-src": [SELF, UNSAFE_INLINE]})(
    SpectacularSwaggerSplitView.as_view(url_name="schema"))

urlpatterns = [
    path("", RedirectView.as_view(url="/console/", permanent=False)),
    path("console/", include("govflow.console.urls")),
    path("", include((public_urlpatterns, "public"))),
    path("admin/", admin.site.urls),
]
# The OpenAPI schema and its browsable docs: closed in production unless
# GOVFLOW_API_DOCS_PUBLIC says otherwise (docs/security.md); closed means 404.
if settings.GOVFLOW_API_DOCS_PUBLIC:
    urlpatterns += [
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        path("api/docs/", api_docs, name="api-docs"),
    ]
urlpatterns += [
    path("api/", include("govflow.api_urls")),
]

# Outside /api/, a refusal or a missing page is a console page (govflow.console.views.errors).
handler403 = "govflow.console.views.errors.handler403"
handler404 = "govflow.console.views.errors.handler404"
