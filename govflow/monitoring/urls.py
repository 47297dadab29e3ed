"""Endpoints of deployment monitoring, included under /api/ by govflow.api_urls."""

from django.urls import path

from govflow.monitoring.api import incidents, machine_tokens, reassessment, sources

urlpatterns = [
    path("releases/<int:pk>/monitoring", sources.MonitoringSummary.as_view(),
         name="release-monitoring"),
    path("releases/<int:pk>/monitoring-sources", sources.SourceList.as_view(),
         name="release-monitoring-sources"),
    path("monitoring-sources/<int:pk>/heartbeat", sources.SourceHeartbeat.as_view(),
         name="monitoring-source-heartbeat"),
    path("monitoring-sources/<int:pk>/retire", sources.SourceRetire.as_view(),
         name="monitoring-source-retire"),
    path("releases/<int:pk>/machine-tokens", machine_tokens.MachineTokenList.as_view(),
         name="release-machine-tokens"),
    path("releases/<int:pk>/machine-tokens/<int:token>/revoke",
         machine_tokens.MachineTokenRevoke.as_view(), name="release-machine-token-revoke"),
    path("incidents", incidents.IncidentList.as_view(), name="incidents"),
    path("incidents/<int:pk>", incidents.IncidentDetail.as_view(), name="incident-detail"),
    path("incidents/<int:pk>/resolve", incidents.IncidentResolve.as_view(),
         name="incident-resolve"),
    path("incidents/<int:pk>/reports", incidents.IncidentReports.as_view(),
         name="incident-reports"),
    path("notifications", sources.NotificationList.as_view(), name="notifications"),
    path("reevaluations/<int:pk>/result", sources.ReevaluationResultView.as_view(),
         name="reevaluation-result"),
    path("releases/<int:pk>/system-version", reassessment.ReleaseSystemVersion.as_view(),
         name="release-system-version"),
]
