"""Endpoints for assigning auditors to a release (regulators) and seeing who is assigned."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.auditing import services
from govflow.auditing.access import access_assign
from govflow.auditing.acts import ASSIGNMENT_END
from govflow.auditing.api.serializers import AssignmentOut
from govflow.auditing.predicates import ACCESS_LEVELS
from govflow.auditing.selectors import assignments_visible_to
from govflow.core.errors import ValidationFailed
from govflow.core.idempotency import idempotent
from govflow.core.schema import IDEMPOTENCY_KEY, errors
from govflow.keys.acts import act_perform
from govflow.keys.serializers import SignedIn, envelope_of
from govflow.releases.access import access_release


class ReleaseAssignments(APIView):
    class Input(serializers.Serializer):
        auditor = serializers.CharField(max_length=150, help_text="the auditor's username")
        ends_at = serializers.DateTimeField(help_text="when the engagement (and access) ends")
        access_level = serializers.ChoiceField(
            ACCESS_LEVELS, required=False,
            help_text="default: the highest level the auditor's certificate allows",
        )

    @extend_schema(responses={200: AssignmentOut(many=True), **errors(404)})
    def get(self, request, pk: int):
        """Who audits the release, with their access grants and conclusions. The lab sees
        every assignment; an auditor those of their own firm."""
        access_release(request.user, pk)
        rows = assignments_visible_to(request.user).filter(release_id=pk).order_by("id")
        return Response(AssignmentOut(rows, many=True).data)

    @extend_schema(request=Input, parameters=[IDEMPOTENCY_KEY],
                   responses={201: AssignmentOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request, pk: int):
        """Assign an auditor to the release's third-party audit (regulators only; 409
        names the rule when the auditor is uncertified, conflicted or too often used)."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        access_assign(request.user, pk)
        v = data.validated_data
        auditor = get_user_model().objects.filter(username=v["auditor"]).first()
        if auditor is None:
            raise ValidationFailed("no such auditor", detail={"fields": [
                {"path": "auditor", "message": f"no user {v['auditor']!r}"}]})
        assignment = services.assignment_create(
            release_id=pk, auditor=auditor, ends_at=v["ends_at"],
            access_level=v.get("access_level"), actor=request.user,
        )
        return Response(AssignmentOut(assignment).data, status=status.HTTP_201_CREATED)


class AssignmentEnd(APIView):
    @extend_schema(request=SignedIn, parameters=[IDEMPOTENCY_KEY],
                   responses={200: AssignmentOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request, pk: int):
        """End an engagement early and revoke its access (regulators only: the lab cannot
        remove its auditors). The envelope is the regulator's signed assignment-end
        statement (`python -m govflow.client assignment-end`)."""
        assignment = act_perform(ASSIGNMENT_END, envelope=envelope_of(request),
                                 actor=request.user, target=pk)
        return Response(AssignmentOut(assignment).data)
