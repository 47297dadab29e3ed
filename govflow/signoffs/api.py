"""REST endpoints for sign-offs: the statement to sign, submitting it, listing them."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.core.errors import DomainError
from govflow.core.idempotency import idempotent
from govflow.core.schema import IDEMPOTENCY_KEY, errors
from govflow.keys.acts import act_perform, nonce_issue
from govflow.keys.serializers import SignedIn, envelope_of
from govflow.releases.access import access_release
from govflow.signoffs import services
from govflow.signoffs.access import access_signoff
from govflow.signoffs.acts import SIGNOFF
from govflow.signoffs.models import Decision, SignOff
from govflow.signoffs.predicate import MAX_COMMENT, PREDICATE_TYPE
from govflow.signoffs.selectors import signoffs_visible_to


class SignOffOut(serializers.ModelSerializer):
    signer = serializers.CharField(source="signer.username")
    key_id = serializers.CharField(source="key.key_id")
    current = serializers.SerializerMethodField(
        help_text="counts towards the release's next step as it stands now"
    )

    class Meta:
        model = SignOff
        fields = ["id", "release", "signer", "role", "decision", "comment", "from_stage",
                  "target_stage", "stage_entry", "gate_report_digest", "policy_digest",
                  "manifest_digest", "key_id", "nonce", "claimed_signed_at", "recorded_at",
                  "current", "envelope"]

    def get_current(self, obj) -> bool:
        r = self.context.get("round")
        return bool(r) and (obj.stage_entry_id, obj.target_stage, obj.gate_report_digest) == (
            r.stage_entry, r.to_stage, r.gate_report_digest
        )


def _round_now(release, actor):
    try:
        return services.current_round(release=release, actor=actor)
    except DomainError:
        return None  # halted or at its last stage: no sign-off counts any more


class SignoffPayload(APIView):
    class Query(serializers.Serializer):
        role = serializers.CharField(max_length=32, help_text="the role you sign as")
        decision = serializers.ChoiceField(Decision.values, default=Decision.APPROVE)
        comment = serializers.CharField(max_length=MAX_COMMENT, required=False, default="",
                                        allow_blank=True)
        nonce = serializers.CharField(max_length=128, required=False,
                                      help_text="one GET …/signoff-nonce issued to you; "
                                                "default: a fresh one")

    @extend_schema(
        parameters=[Query],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, **errors(400, 403, 404, 409)},
    )
    def get(self, request, pk: int):
        """The in-toto statement to sign for the release's next step, with a nonce the
        server issues to you (or `nonce`, one it issued to you before).

        Sign it locally (`python -m govflow.client sign`) and POST the envelope to
        /api/signoffs. Fill `predicate.signed_at` when you sign; it is recorded as your
        claim, never trusted. Changes nothing.
        """
        # A release you cannot see is a 404 before any complaint about the query.
        access_release(request.user, pk)
        query = self.Query(data=request.query_params)
        query.is_valid(raise_exception=True)
        release = access_signoff(request.user, pk, query.validated_data["role"])
        statement = services.signoff_statement(
            release=release, actor=request.user, role=query.validated_data["role"],
            decision=query.validated_data["decision"], comment=query.validated_data["comment"],
            nonce=query.validated_data.get("nonce"),
        )
        return Response(statement)


class SignoffNonce(APIView):
    class Query(serializers.Serializer):
        role = serializers.CharField(max_length=32, help_text="the role you will sign as")

    class Out(serializers.Serializer):
        nonce = serializers.CharField()
        expires_at = serializers.DateTimeField()

    @extend_schema(parameters=[Query], responses={200: Out, **errors(400, 403, 404)})
    def get(self, request, pk: int):
        """A nonce for your next sign-off on this release: chosen by the server, usable
        once, by you alone, until `expires_at`. A statement whose nonce the server did not
        issue to its signer is refused (`nonce_unknown`, `nonce_foreign`)."""
        # A release you cannot see is a 404 before any complaint about the query.
        access_release(request.user, pk)
        query = self.Query(data=request.query_params)
        query.is_valid(raise_exception=True)
        access_signoff(request.user, pk, query.validated_data["role"])
        row = nonce_issue(user=request.user, predicate_type=PREDICATE_TYPE)
        return Response(self.Out(row).data)


class SignoffSubmit(APIView):
    @extend_schema(
        request=SignedIn,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: SignOffOut, **errors(400, 403, 404, 409, 422)},
    )
    @idempotent
    def post(self, request):
        """Submit a signed sign-off (a DSSE envelope around the statement you fetched)."""
        signoff = act_perform(SIGNOFF, envelope=envelope_of(request), actor=request.user)
        # `current` as the list answers it: measured against the release's round now
        return Response(SignOffOut(signoff, context={"round": _round_now(signoff.release,
                                                                         request.user)}).data,
                        status=status.HTTP_201_CREATED)


class SignoffList(APIView):
    @extend_schema(responses={200: SignOffOut(many=True), **errors(404)})
    def get(self, request, pk: int):
        """Every sign-off of the release, oldest first; `current` marks those that
        count towards its next step as it stands now."""
        release = access_release(request.user, pk)
        current = _round_now(release, request.user)
        rows = signoffs_visible_to(request.user).filter(release=release).order_by("id")
        return Response(SignOffOut(rows, many=True, context={"round": current}).data)
