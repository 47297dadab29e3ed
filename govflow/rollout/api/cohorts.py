"""Endpoints for cohorts: members, growth approvals and signed snapshots."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.accounts.access import not_found
from govflow.core.errors import ValidationFailed
from govflow.core.idempotency import idempotent
from govflow.core.schema import IDEMPOTENCY_KEY, errors
from govflow.keys.acts import act_perform
from govflow.keys.serializers import SignedIn, envelope_of, signature_required
from govflow.rollout import services
from govflow.rollout.access import (
    ADMITTERS,
    REMOVERS,
    access_cohort_change,
    access_rollout,
    access_snapshot_publish,
    is_lab_of,
)
from govflow.rollout.acts import GROWTH_APPROVE, SNAPSHOT_PUBLISH
from govflow.rollout.api.check import EXTERNAL_ID
from govflow.rollout.api.serializers import ApprovalOut, CohortOut, MemberOut, SnapshotOut
from govflow.rollout.policy import cohort_rules
from govflow.rollout.predicates import DECISIONS
from govflow.rollout.selectors import (
    active_members,
    approved_limit,
    cohorts_visible_to,
    members_visible_to,
    snapshots_visible_to,
)


def _annotated(cohort):
    rules = cohort_rules(cohort.release, cohort.stage)
    cohort.size = active_members(cohort).count()
    cohort.cap = rules.cap if rules else 0
    cohort.kyc_level = rules.kyc_level if rules else ""
    cohort.approved_up_to = approved_limit(cohort, rules) if rules else 0
    return cohort


class CohortList(APIView):
    @extend_schema(responses={200: CohortOut(many=True), **errors(404)})
    def get(self, request, pk: int):
        """The release's cohorts: size, cap, KYC level and the growth approved so far."""
        access_rollout(request.user, pk)
        rows = cohorts_visible_to(request.user).filter(release_id=pk).order_by("id")
        return Response(CohortOut([_annotated(c) for c in rows], many=True).data)


class CohortMembers(APIView):
    class Input(serializers.Serializer):
        customers = serializers.ListField(
            child=serializers.RegexField(EXTERNAL_ID.pattern), min_length=1, max_length=1000,
            help_text="external ids of the lab's customers to admit",
        )

    @extend_schema(parameters=[OpenApiParameter("removed", bool, description="include removed")],
                   responses={200: MemberOut(many=True), **errors(404)})
    def get(self, request, pk: int, stage: str):
        """The cohort's members (the lab only; a regulator checks the signed snapshot)."""
        release = access_rollout(request.user, pk)
        if not is_lab_of(request.user, release):
            not_found()
        rows = members_visible_to(request.user).filter(cohort__release_id=pk,
                                                       cohort__stage=stage)
        if request.query_params.get("removed") not in ("1", "true"):
            rows = rows.filter(removed_at__isnull=True)
        return Response(MemberOut(rows.select_related("admitted_by").order_by("id"),
                                  many=True).data)

    @extend_schema(request=Input, parameters=[IDEMPOTENCY_KEY],
                   responses={201: MemberOut(many=True), **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request, pk: int, stage: str):
        """Admit customers to the stage's cohort. 409 names the rule: `cap_exceeded`,
        `growth_not_approved` (a signed approval is needed to pass the step), `kyc`,
        `already_member`."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        access_cohort_change(request.user, pk, ADMITTERS)
        members = services.cohort_admit(release_id=pk, stage=stage, actor=request.user,
                                        external_ids=data.validated_data["customers"])
        return Response(MemberOut(members, many=True).data, status=status.HTTP_201_CREATED)


class CohortMemberRemove(APIView):
    class Input(serializers.Serializer):
        reason = serializers.CharField(max_length=4000)

    @extend_schema(request=Input, parameters=[IDEMPOTENCY_KEY],
                   responses={200: MemberOut, **errors(400, 403, 404, 422)})
    @idempotent
    def post(self, request, pk: int, stage: str, customer: str):
        """Remove a customer from the cohort; the access check refuses them at once."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        access_cohort_change(request.user, pk, REMOVERS)
        member = services.cohort_remove(release_id=pk, stage=stage, external_id=customer,
                                        reason=data.validated_data["reason"],
                                        actor=request.user)
        return Response(MemberOut(member).data)


class GrowthPayload(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("up_to", int, required=True),
                    OpenApiParameter("role", str, required=True),
                    OpenApiParameter("decision", str, enum=list(DECISIONS)),
                    OpenApiParameter("comment", str)],
        responses={200: OpenApiTypes.OBJECT, **errors(400, 403, 404, 409)},
    )
    def get(self, request, pk: int, stage: str):
        """The statement to sign to approve growing the cohort up to a step (fresh nonce;
        changes nothing). Sign it and POST the envelope to /api/cohort-approvals."""
        release = access_rollout(request.user, pk)
        params = request.query_params
        up_to = params.get("up_to", "")
        decision = params.get("decision", "approve")
        if not (up_to.isascii() and up_to.isdigit()) or decision not in DECISIONS:
            raise ValidationFailed("up_to (a size) and decision approve|reject are needed")
        statement = services.growth_statement(
            release=release, stage=stage, up_to=int(up_to), role=params.get("role", ""),
            decision=decision, comment=params.get("comment", ""), actor=request.user,
        )
        return Response(statement)


class GrowthApprovalSubmit(APIView):
    @extend_schema(request=SignedIn, parameters=[IDEMPOTENCY_KEY],
                   responses={201: ApprovalOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request):
        """Record a signed approval (or rejection) of growing a cohort past a step."""
        approval = act_perform(GROWTH_APPROVE, envelope=envelope_of(request),
                               actor=request.user)
        return Response(ApprovalOut(approval).data, status=status.HTTP_201_CREATED)


class CohortSnapshotView(APIView):
    @extend_schema(responses={200: SnapshotOut, **errors(404)})
    def get(self, request, pk: int, stage: str):
        """The latest signed snapshot: DSSE envelope (signed with the audit log's key, see
        /api/log/key), the salted leaves and, for the lab's gateway, each member's id and
        salt to check membership locally."""
        release = access_rollout(request.user, pk)
        snapshot = (snapshots_visible_to(request.user)
                    .filter(cohort__release_id=pk, cohort__stage=stage)
                    .order_by("-cohort_version").select_related("cohort").first())
        if snapshot is None:
            not_found()
        context = {"with_members": is_lab_of(request.user, release)}
        return Response(SnapshotOut(snapshot, context=context).data)

    @extend_schema(request=SignedIn, parameters=[IDEMPOTENCY_KEY],
                   responses={201: SnapshotOut, **errors(400, 403, 404, 422)})
    @idempotent
    def post(self, request, pk: int, stage: str):
        """Sign a snapshot of the cohort as it is now (one per cohort version). The
        envelope is the orderer's signed snapshot order (`python -m govflow.client
        snapshot-order`): a regulator, or one of the lab's release managers. (The snapshot
        itself is signed with the log's key; the beat task publishes one after each
        change without an order.)"""
        release = access_snapshot_publish(request.user, pk)
        if "envelope" not in request.data:
            raise signature_required("a snapshot order", "snapshot-order")
        snapshot = act_perform(SNAPSHOT_PUBLISH, envelope=envelope_of(request),
                               actor=request.user, target=(pk, stage))
        return Response(SnapshotOut(snapshot, context={
            "with_members": is_lab_of(request.user, release)}).data,
            status=status.HTTP_201_CREATED)
