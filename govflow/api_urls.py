"""Every REST endpoint under /api/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from govflow.accounts.api import Me, OrganizationViewSet
from govflow.audit import api as audit
from govflow.policy.api import PolicyVersionViewSet
from govflow.releases import api as releases
from govflow.systems import api as systems

router = SimpleRouter(trailing_slash=False)
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("systems", systems.SystemViewSet, basename="system")
router.register("system-versions", systems.SystemVersionViewSet, basename="system-version")
router.register("policies", PolicyVersionViewSet, basename="policy")
router.register("releases", releases.ReleaseViewSet, basename="release")

urlpatterns = [
    path("me", Me.as_view(), name="me"),
    path("systems/register", systems.SystemRegister.as_view(), name="system-register"),
    path("systems/<int:pk>/versions", systems.SystemVersionCreate.as_view(),
         name="system-version-create"),
    path("releases/open", releases.ReleaseOpen.as_view(), name="release-open"),
    path("releases/<int:pk>/advance", releases.ReleaseAdvance.as_view(), name="release-advance"),
    path("releases/<int:pk>/rollback", releases.ReleaseRollback.as_view(),
         name="release-rollback"),
    path("releases/<int:pk>/pause", releases.ReleasePause.as_view(), name="release-pause"),
    path("releases/<int:pk>/resume", releases.ReleaseResume.as_view(), name="release-resume"),
    path("releases/<int:pk>/halt", releases.ReleaseHalt.as_view(), name="release-halt"),
    path("releases/<int:pk>/evidence", releases.EvidenceList.as_view(), name="release-evidence"),
    path("evidence/<int:pk>/download", releases.EvidenceDownload.as_view(),
         name="evidence-download"),
    path("log/events", audit.EventList.as_view(), name="log-events"),
    path("log/events/<int:event_id>/inclusion", audit.InclusionProof.as_view(),
         name="log-inclusion"),
    path("log/consistency", audit.ConsistencyProof.as_view(), name="log-consistency"),
    path("log/checkpoint", audit.LatestCheckpoint.as_view(), name="log-checkpoint"),
    path("log/checkpoints", audit.CheckpointList.as_view(), name="log-checkpoints"),
    path("log/key", audit.LogKey.as_view(), name="log-key"),
    path("oversight/export", audit.ExportBundle.as_view(), name="oversight-export"),
    *router.urls,
]
