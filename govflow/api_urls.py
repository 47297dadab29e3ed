"""Every REST endpoint under /api/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from govflow.accounts.api import Me, OrganizationViewSet, TokenList, TokenRevoke
from govflow.audit import api as audit
from govflow.auditing.api import assignment as auditing_assignment
from govflow.auditing.api import certification, findings
from govflow.console.api import ReleaseDossier
from govflow.evalruns import api as evalruns
from govflow.keys import api as keys
from govflow.keys import certificate_api as key_certificates
from govflow.policy.api import PolicyVersionViewSet
from govflow.releases import api as releases
from govflow.signoffs import api as signoffs
from govflow.systems import api as systems

router = SimpleRouter(trailing_slash=False)
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("systems", systems.SystemViewSet, basename="system")
router.register("system-versions", systems.SystemVersionViewSet, basename="system-version")
router.register("policies", PolicyVersionViewSet, basename="policy")
router.register("releases", releases.ReleaseViewSet, basename="release")

urlpatterns = [
    path("", include("govflow.rollout.urls")),
    path("", include("govflow.monitoring.urls")),
    path("me", Me.as_view(), name="me"),
    path("tokens", TokenList.as_view(), name="tokens"),
    path("tokens/<int:pk>/revoke", TokenRevoke.as_view(), name="token-revoke"),
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
    path("releases/<int:pk>/dossier", ReleaseDossier.as_view(), name="release-dossier"),
    path("evidence/<int:pk>/download", releases.EvidenceDownload.as_view(),
         name="evidence-download"),
    path("keys", keys.KeyList.as_view(), name="keys"),
    path("keys/<int:pk>/revoke", keys.KeyRevoke.as_view(), name="key-revoke"),
    path("keys/<int:pk>/rotate", keys.KeyRotate.as_view(), name="key-rotate"),
    path("key-certificates", key_certificates.KeyCertificateList.as_view(),
         name="key-certificates"),
    path("key-certificates/<int:pk>", key_certificates.KeyCertificateDetail.as_view(),
         name="key-certificate-detail"),
    path("key-certificates/<int:pk>/revoke", key_certificates.KeyCertificateRevoke.as_view(),
         name="key-certificate-revoke"),
    path("releases/<int:pk>/signoff-payload", signoffs.SignoffPayload.as_view(),
         name="release-signoff-payload"),
    path("releases/<int:pk>/signoff-nonce", signoffs.SignoffNonce.as_view(),
         name="release-signoff-nonce"),
    path("releases/<int:pk>/signoffs", signoffs.SignoffList.as_view(), name="release-signoffs"),
    path("signoffs", signoffs.SignoffSubmit.as_view(), name="signoffs"),
    path("log/events", audit.EventList.as_view(), name="log-events"),
    path("log/events/<int:event_id>/inclusion", audit.InclusionProof.as_view(),
         name="log-inclusion"),
    path("log/events/<int:event_id>/receipt", audit.EventReceipt.as_view(),
         name="log-receipt"),
    path("log/consistency", audit.ConsistencyProof.as_view(), name="log-consistency"),
    path("log/checkpoint", audit.LatestCheckpoint.as_view(), name="log-checkpoint"),
    path("log/checkpoints", audit.CheckpointList.as_view(), name="log-checkpoints"),
    path("log/key", audit.LogKey.as_view(), name="log-key"),
    path("oversight/export", audit.ExportBundle.as_view(), name="oversight-export"),
    path("oversight/", include("govflow.oversight.urls")),
    path("certificates", certification.CertificateList.as_view(), name="certificates"),
    path("certificates/<int:pk>", certification.CertificateDetail.as_view(),
         name="certificate-detail"),
    path("certificates/<int:pk>/suspend", certification.CertificateSuspend.as_view(),
         name="certificate-suspend"),
    path("certificates/<int:pk>/reinstate", certification.CertificateReinstate.as_view(),
         name="certificate-reinstate"),
    path("certificates/<int:pk>/revoke", certification.CertificateRevoke.as_view(),
         name="certificate-revoke"),
    path("conflicts", certification.ConflictList.as_view(), name="conflicts"),
    path("releases/<int:pk>/assignments", auditing_assignment.ReleaseAssignments.as_view(),
         name="release-assignments"),
    path("assignments/<int:pk>/end", auditing_assignment.AssignmentEnd.as_view(),
         name="assignment-end"),
    path("releases/<int:pk>/finding-attachments", findings.AttachmentUpload.as_view(),
         name="finding-attachment-upload"),
    path("finding-attachments/<int:pk>", findings.AttachmentDownload.as_view(),
         name="finding-attachment-download"),
    path("findings", findings.FindingList.as_view(), name="findings"),
    path("findings/<int:pk>", findings.FindingDetail.as_view(), name="finding-detail"),
    path("findings/<int:pk>/statements", findings.FindingStatementAppend.as_view(),
         name="finding-statements"),
    path("conclusions", findings.ConclusionSubmit.as_view(), name="conclusions"),
    path("releases/<int:pk>/eval-runs", evalruns.ReleaseEvalRuns.as_view(),
         name="release-eval-runs"),
    path("eval-runs", evalruns.EvalRunList.as_view(), name="eval-runs"),
    path("eval-runs/<int:pk>", evalruns.EvalRunDetail.as_view(), name="eval-run-detail"),
    path("eval-runs/<int:pk>/resume", evalruns.EvalRunResume.as_view(), name="eval-run-resume"),
    path("eval-runs/<int:pk>/withdraw", evalruns.EvalRunWithdraw.as_view(),
         name="eval-run-withdraw"),
    path("eval-runs/<int:pk>/samples", evalruns.EvalSampleList.as_view(),
         name="eval-run-samples"),
    path("eval-endpoints", evalruns.EvalEndpointList.as_view(), name="eval-endpoints"),
    *router.urls,
]
