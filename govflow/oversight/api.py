"""REST endpoints of oversight: regulatory holds and sanctions, each made by a signed
statement (fetch the statement to sign, sign it, post the envelope)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.accounts.models import Organization, OrganizationKind
from govflow.core.api import Pagination
from govflow.core.errors import NotFound
from govflow.core.idempotency import idempotent
from govflow.core.schema import IDEMPOTENCY_KEY, errors
from govflow.keys.acts import act_perform
from govflow.keys.serializers import SignedIn, envelope_of
from govflow.oversight import services
from govflow.oversight.access import access_hold, access_regulator, access_sanction
from govflow.oversight.acts import HOLD_LIFT, HOLD_PLACE, SANCTION_IMPOSE, SANCTION_LIFT
from govflow.oversight.models import RegulatoryHold, Sanction
from govflow.oversight.selectors import holds_visible_to, sanctions_visible_to
from govflow.releases.access import access_release


class HoldOut(serializers.ModelSerializer):
    lab = serializers.CharField(source="release.organization.slug")
    placed_by = serializers.CharField(source="placed_by.username")
    lifted_by = serializers.CharField(source="lifted_by.username", default=None)
    in_force = serializers.BooleanField()

    class Meta:
        model = RegulatoryHold
        fields = ["id", "release", "lab", "reason", "placed_by", "placed_at", "lifted_by",
                  "lifted_at", "lift_reason", "in_force"]


class SanctionOut(serializers.ModelSerializer):
    lab = serializers.CharField(source="lab.slug")
    imposed_by = serializers.CharField(source="imposed_by.username")
    lifted_by = serializers.CharField(source="lifted_by.username", default=None)

    class Meta:
        model = Sanction
        fields = ["id", "lab", "stage", "min_training_compute_flop", "until", "reason",
                  "imposed_by", "imposed_at", "lifted_by", "lifted_at", "lift_reason"]


def _page(request, view, qs, serializer):
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


class HoldList(APIView):
    # Its GET pages by hand; declared so the schema documents the paginated body.
    pagination_class = Pagination

    @extend_schema(responses={200: HoldOut(many=True)})
    def get(self, request):
        """Regulatory holds on the releases you may see, newest first."""
        qs = holds_visible_to(request.user).order_by("-id")
        if release := request.query_params.get("release"):
            qs = qs.filter(release_id=int(release) if release.isdigit() else -1)
        return _page(request, self, qs, HoldOut)

    @extend_schema(request=SignedIn, parameters=[IDEMPOTENCY_KEY],
                   responses={201: HoldOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request):
        """Place a regulatory hold (a signed statement, action `place`): the release
        advances to no stage until the hold is lifted."""
        hold = act_perform(HOLD_PLACE, envelope=envelope_of(request), actor=request.user)
        return Response(HoldOut(hold).data, status=status.HTTP_201_CREATED)


class HoldPayload(APIView):
    class Query(serializers.Serializer):
        release = serializers.IntegerField(required=False)
        hold = serializers.IntegerField(required=False, help_text="to lift: the hold's id")
        reason = serializers.CharField(max_length=4000)

    @extend_schema(parameters=[Query], responses={200: OpenApiTypes.OBJECT,
                                                  **errors(400, 403, 404)})
    def get(self, request):
        """The statement to sign to place a hold on `release`, or to lift `hold`.
        Sign it with `python -m govflow.client sign`. Changes nothing."""
        query = self.Query(data=request.query_params)
        query.is_valid(raise_exception=True)
        access_regulator(request.user)
        v = query.validated_data
        if v.get("hold"):
            hold = access_hold(request.user, v["hold"], act=True)
            statement = services.hold_statement(release=hold.release, action="lift",
                                                reason=v["reason"], hold=hold)
        elif v.get("release"):
            release = access_release(request.user, v["release"])
            statement = services.hold_statement(release=release, action="place",
                                                reason=v["reason"])
        else:
            raise NotFound("name a release (to place a hold) or a hold (to lift it)")
        return Response(statement)


class HoldLift(APIView):
    @extend_schema(request=SignedIn, parameters=[IDEMPOTENCY_KEY],
                   responses={200: HoldOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request, pk: int):
        """Lift a regulatory hold (a signed statement, action `lift`, naming the hold)."""
        hold = act_perform(HOLD_LIFT, envelope=envelope_of(request), actor=request.user,
                           target=pk)
        return Response(HoldOut(hold).data)


class SanctionList(APIView):
    # Its GET pages by hand; declared so the schema documents the paginated body.
    pagination_class = Pagination

    @extend_schema(responses={200: SanctionOut(many=True)})
    def get(self, request):
        """Sanctions: a regulator sees all, a lab its own."""
        return _page(request, self, sanctions_visible_to(request.user).order_by("-id"),
                     SanctionOut)

    @extend_schema(request=SignedIn, parameters=[IDEMPOTENCY_KEY],
                   responses={201: SanctionOut, **errors(400, 403, 409, 422)})
    @idempotent
    def post(self, request):
        """Impose a sanction on a lab (a signed statement, action `impose`): no release of
        a system above the compute threshold may pass the stage until the date."""
        sanction = act_perform(SANCTION_IMPOSE, envelope=envelope_of(request),
                               actor=request.user)
        return Response(SanctionOut(sanction).data, status=status.HTTP_201_CREATED)


class SanctionPayload(APIView):
    class Query(serializers.Serializer):
        lab = serializers.SlugField(required=False)
        sanction = serializers.IntegerField(required=False, help_text="to lift: its id")
        stage = serializers.RegexField(r"^[a-z][a-z0-9_]{0,62}$", required=False)
        min_training_compute_flop = serializers.FloatField(required=False, min_value=0)
        until = serializers.DateTimeField(required=False)
        reason = serializers.CharField(max_length=4000)

    @extend_schema(parameters=[Query], responses={200: OpenApiTypes.OBJECT,
                                                  **errors(400, 403, 404)})
    def get(self, request):
        """The statement to sign to impose a sanction on `lab` (with stage,
        min_training_compute_flop, until), or to lift `sanction`. Changes nothing."""
        query = self.Query(data=request.query_params)
        query.is_valid(raise_exception=True)
        access_regulator(request.user)
        v = query.validated_data
        if v.get("sanction"):
            sanction = access_sanction(request.user, v["sanction"], act=True)
            statement = services.sanction_statement(action="lift", lab=sanction.lab,
                                                    reason=v["reason"], sanction=sanction)
            return Response(statement)
        lab = Organization.objects.filter(slug=v.get("lab") or "",
                                          kind=OrganizationKind.LAB).first()
        missing = [f for f in ("stage", "min_training_compute_flop", "until") if f not in v]
        if lab is None or missing:
            raise NotFound("name a lab with stage, min_training_compute_flop and until "
                           "(to impose), or a sanction (to lift)")
        statement = services.sanction_statement(
            action="impose", lab=lab, reason=v["reason"], stage=v["stage"],
            min_training_compute_flop=v["min_training_compute_flop"], until=v["until"])
        return Response(statement)


class SanctionLift(APIView):
    @extend_schema(request=SignedIn, parameters=[IDEMPOTENCY_KEY],
                   responses={200: SanctionOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request, pk: int):
        """Lift a sanction (a signed statement, action `lift`, naming the sanction)."""
        sanction = act_perform(SANCTION_LIFT, envelope=envelope_of(request), actor=request.user,
                               target=pk)
        return Response(SanctionOut(sanction).data)
