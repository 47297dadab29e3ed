from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace, csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from govflow.console.urls import public_urlpatterns

# The site's policy allows scripts by nonce only (settings.CONTENT_SECURITY_POLICY). Two
# third-party UIs put no nonce on their <script src> tags: Django's admin (theme.js,
# nav_sidebar.js, its widgets) and Swagger UI. Their pages allow scripts from this origin
# instead; neither has an inline script, so 'unsafe-inline' stays out everywhere.
scripts_from_this_origin = csp_replace({"script-src": [SELF]})


def _each_view(patterns, decorator) -> None:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            _each_view(entry.url_patterns, decorator)
        elif isinstance(entry, URLPattern):
            entry.callback = decorator(entry.callback)


def admin_urls():
    patterns, app_name, namespace = admin.site.urls
    _each_view(patterns, scripts_from_this_origin)
    return patterns, app_name, namespace


# Swagger UI's settings script comes from its own URL (the split view); its styles are
# inline (a <style> block, and style attributes it sets as it renders).
api_docs = scripts_from_this_origin(csp_update({"style-src": [SELF, UNSAFE_INLINE]})(
    SpectacularSwaggerSplitView.as_view(url_name="schema")))

urlpatterns = [
    path("", RedirectView.as_view(url="/console/", permanent=False)),
    path("console/", include("govflow.console.urls")),
    path("", include((public_urlpatterns, "public"))),
    path("admin/", admin_urls()),
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
