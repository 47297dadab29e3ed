from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from govflow.console.urls import public_urlpatterns

urlpatterns = [
    path("", RedirectView.as_view(url="/console/", permanent=False)),
    path("console/", include("govflow.console.urls")),
    path("", include((public_urlpatterns, "public"))),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/", include("govflow.api_urls")),
]

# Outside /api/, a refusal or a missing page is a console page (govflow.console.views.errors).
handler403 = "govflow.console.views.errors.handler403"
handler404 = "govflow.console.views.errors.handler404"
