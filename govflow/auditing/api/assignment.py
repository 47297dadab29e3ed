"""Endpoints for assigning auditors to a release (regulators) and seeing who is assigned."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.auditing.access import access_assign
from govflow.auditing.acts import ASSIGNMENT_CREATE, ASSIGNMENT_END
from govflow.auditing.api.serializers import AssignmentOut
from govflow.auditing.selectors import assignments_visible_to
from govflow.core.idempotency import idempotent
from govflow.core.schema import IDEMPOTENCY_KEY, errors
from govflow.keys.acts import act_perform
from govflow.keys.serializers import SignedIn, envelope_of, signature_required
from govflow.releases.access import access_release


class ReleaseAssignments(APIView):
    @extend_schema(responses={200: AssignmentOut(many=True), **errors(404)})
    def get(self, request, pk: int):
        """Who audits the release, with their access grants and conclusions. The lab sees
        every assignment; an auditor those of their own firm."""
        access_release(request.user, pk)
        rows = assignments_visible_to(request.user).filter(release_id=pk).order_by("id")
        return Response(AssignmentOut(rows, many=True).data)

    @extend_schema(request=SignedIn, parameters=[IDEMPOTENCY_KEY],
                   responses={201: AssignmentOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request, pk: int):
        """Assign an auditor to the release's third-party audit (regulators only; 409
        names the rule when the auditor is uncertified, conflicted or too often used).
        The envelope is the regulator's signed assignment statement: {release, auditor
        (username), ends_at, access_level (default: the highest the auditor's certificate
        allows)} (`python -m govflow.client assign`)."""
        if "envelope" not in request.data:
            access_assign(request.user, pk)  # 404 if not yours to see, 403 if not a regulator
            raise signature_required("an assignment", "assign")
        assignment = act_perform(ASSIGNMENT_CREATE, envelope=envelope_of(request),
                                 actor=request.user, target=pk)
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
