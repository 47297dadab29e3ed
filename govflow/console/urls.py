"""Console pages under /console/ and the public whistleblower channel."""

from django.contrib.auth import views as auth_views
from django.urls import path

from govflow.console.views import audit, oversight, releases, whistleblower

app_name = "console"

urlpatterns = [
    path("", releases.releases, name="releases"),
    path("login/", auth_views.LoginView.as_view(template_name="console/login.html",
                                                redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("releases/<int:pk>/", releases.release, name="release"),
    path("audit/", audit.trail, name="audit"),
    path("checkpoints/", audit.checkpoints, name="checkpoints"),
    path("oversight/", oversight.overview, name="oversight"),
    path("oversight/sign/<slug:action>/", oversight.sign, name="sign"),
    path("keys/", oversight.keys, name="keys"),
    path("whistleblower/", whistleblower.inbox, name="inbox"),
    path("whistleblower/<int:pk>/", whistleblower.inbox_report, name="inbox-report"),
]

# The public channel lives outside /console/ (and its log filter matches this prefix:
# govflow.oversight.privacy.PUBLIC_PREFIX).
public_urlpatterns = [
    path("whistleblow/", whistleblower.report, name="whistleblow"),
    path("whistleblow/receipt/", whistleblower.receipt, name="whistleblow-receipt"),
]
