"""API routes of oversight, included under /api/oversight/ by govflow.api_urls."""

from django.urls import path

from govflow.oversight import api

urlpatterns = [
    path("holds", api.HoldList.as_view(), name="oversight-holds"),
    path("holds/payload", api.HoldPayload.as_view(), name="oversight-hold-payload"),
    path("holds/<int:pk>/lift", api.HoldLift.as_view(), name="oversight-hold-lift"),
    path("sanctions", api.SanctionList.as_view(), name="oversight-sanctions"),
    path("sanctions/payload", api.SanctionPayload.as_view(), name="oversight-sanction-payload"),
    path("sanctions/<int:pk>/lift", api.SanctionLift.as_view(), name="oversight-sanction-lift"),
]
