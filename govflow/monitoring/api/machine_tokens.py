"""Endpoints for a release's machine tokens: what a monitoring source or a serving
gateway files incidents with (`govflow.accounts.machine`: one release, one purpose)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.accounts import services as accounts
from govflow.accounts.access import visible_or_404
from govflow.accounts.api import TokenLifetimeIn, TokenOut, request_token
from govflow.accounts.models import TokenPurpose
from govflow.accounts.selectors import machine_tokens_of
from govflow.core.idempotency import idempotent
from govflow.core.schema import IDEMPOTENCY_KEY, errors
from govflow.monitoring.access import access_machine_tokens


class MachineTokenOut(TokenOut):
    owner = serializers.CharField(source="user.username", help_text="who issued it")

    class Meta(TokenOut.Meta):
        fields = [*TokenOut.Meta.fields, "purpose", "release", "owner"]


class IssuedMachineTokenOut(serializers.Serializer):
    token = MachineTokenOut()
    secret = serializers.CharField(help_text="the bearer token; shown this once, never again")


class MachineTokenList(APIView):
    class Input(TokenLifetimeIn):
        name = serializers.CharField(max_length=100, help_text="e.g. 'abuse classifier'")
        purpose = serializers.ChoiceField(TokenPurpose.choices,
                                          help_text="the one thing it may do")

    @extend_schema(responses={200: MachineTokenOut(many=True), **errors(403, 404)})
    def get(self, request, pk: int):
        """The release's machine tokens, newest first (the lab's release managers and
        safety officers; never their secrets)."""
        access_machine_tokens(request.user, pk)
        return Response(MachineTokenOut(machine_tokens_of(pk), many=True).data)

    # Not idempotent by key, as POST /api/tokens: the secret is stored nowhere.
    @extend_schema(request=Input,
                   responses={201: IssuedMachineTokenOut, **errors(400, 403, 404, 409)})
    def post(self, request, pk: int):
        """Issue a machine token for this release (its release managers): it may do its
        purpose on this release and nothing else, expires, and is revocable. Its secret is
        in this response only; `token.issued` is logged with the release."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        release = access_machine_tokens(request.user, pk, issue=True)
        v = data.validated_data
        issued = accounts.token_issue(user=request.user, name=v["name"],
                                      ttl_days=v.get("ttl_days"), purpose=v["purpose"],
                                      release=release, parent=request_token(request))
        body = {"token": issued.token, "secret": issued.secret}
        return Response(IssuedMachineTokenOut(body).data, status=status.HTTP_201_CREATED)


class MachineTokenRevoke(APIView):
    @extend_schema(request=None, parameters=[IDEMPOTENCY_KEY],
                   responses={200: MachineTokenOut, **errors(403, 404, 422)})
    @idempotent
    def post(self, request, pk: int, token: int):
        """Revoke a machine token of this release (any of its release managers and safety
        officers, not only whoever issued it): refused from the next request on."""
        access_machine_tokens(request.user, pk)
        visible_or_404(machine_tokens_of(pk), token)
        revoked = accounts.token_revoke(token_id=token, actor=request.user)
        return Response(MachineTokenOut(revoked).data)
