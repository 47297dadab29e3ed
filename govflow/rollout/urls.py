"""Endpoints of the rollout, included under /api/ by govflow.api_urls."""

from django.urls import path

from govflow.rollout.api import check, cohorts, customers

urlpatterns = [
    # First: the serving gateway calls this on every session.
    path("access/check", check.access_check, name="access-check"),
    path("customers", customers.CustomerList.as_view(), name="customers"),
    path("kyc/webhooks/<slug:provider>", customers.KycWebhook.as_view(), name="kyc-webhook"),
    path("releases/<int:pk>/cohorts", cohorts.CohortList.as_view(), name="release-cohorts"),
    path("releases/<int:pk>/cohorts/<slug:stage>/members", cohorts.CohortMembers.as_view(),
         name="cohort-members"),
    path("releases/<int:pk>/cohorts/<slug:stage>/members/<str:customer>/remove",
         cohorts.CohortMemberRemove.as_view(), name="cohort-member-remove"),
    path("releases/<int:pk>/cohorts/<slug:stage>/growth-payload",
         cohorts.GrowthPayload.as_view(), name="cohort-growth-payload"),
    path("releases/<int:pk>/cohorts/<slug:stage>/snapshot", cohorts.CohortSnapshotView.as_view(),
         name="cohort-snapshot"),
    path("cohort-approvals", cohorts.GrowthApprovalSubmit.as_view(), name="cohort-approvals"),
]
