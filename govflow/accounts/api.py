"""REST endpoints about organizations, the caller and the caller's API tokens."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.accounts import services
from govflow.accounts.access import roles_of, visible_or_404
from govflow.accounts.models import ApiToken, OrganizationKind
from govflow.accounts.selectors import (
    organizations_visible_to,
    tokens_of,
    user_organization,
)
from govflow.core.api import Pagination
from govflow.core.idempotency import idempotent
from govflow.core.schema import IDEMPOTENCY_KEY, errors


class OrganizationOut(serializers.Serializer):
    # Fields listed once rather than derived from the model on every instance: GET
    # /api/me, the lightest authenticated request, shows the caller's organization.
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=80)
    kind = serializers.ChoiceField(choices=OrganizationKind.choices)


class OrganizationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Organizations you may see: your own, or all for a regulator."""

    serializer_class = OrganizationOut
    lookup_field = "slug"

    def get_queryset(self):
        return organizations_visible_to(self.request.user)


class Me(APIView):
    @extend_schema(
        responses=inline_serializer(
            name="Me",
            fields={
                "id": serializers.IntegerField(),
                "username": serializers.CharField(),
                "organization": OrganizationOut(allow_null=True),
                "roles": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request):
        """Who the token belongs to: user, organization and roles."""
        org = user_organization(request.user)
        return Response(
            {
                "id": request.user.pk,
                "username": request.user.get_username(),
                "organization": OrganizationOut(org).data if org else None,
                "roles": roles_of(request.user),
            }
        )


class TokenOut(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "revoked_at",
                  "last_used_at"]


class IssuedTokenOut(serializers.Serializer):
    token = TokenOut()
    secret = serializers.CharField(help_text="the bearer token; shown this once, never again")


def request_token(request) -> ApiToken | None:
    # request.auth is the ApiToken for bearer authentication, None for a console session.
    return request.auth if isinstance(request.auth, ApiToken) else None


class TokenLifetimeIn(serializers.Serializer):
    """How long a new token lives: one rule for a person's tokens and machine tokens."""

    ttl_days = serializers.IntegerField(
        required=False, min_value=1,
        help_text="days until it expires (default GOVFLOW_TOKEN_TTL_DAYS, at most "
                  "GOVFLOW_TOKEN_MAX_TTL_DAYS); a token made with a token expires no "
                  "later than that one")

    def validate_ttl_days(self, value: int) -> int:
        if value > settings.GOVFLOW_TOKEN_MAX_TTL_DAYS:
            raise serializers.ValidationError(f"at most {settings.GOVFLOW_TOKEN_MAX_TTL_DAYS}")
        return value


class TokenList(APIView):
    # Its GET pages by hand; declared so the schema documents the paginated body.
    pagination_class = Pagination

    class Input(TokenLifetimeIn):
        name = serializers.CharField(max_length=100, help_text="e.g. 'gateway eu-west'")

    @extend_schema(responses={200: TokenOut(many=True)})
    def get(self, request):
        """Your API tokens, newest first (never their secrets)."""
        paginator = Pagination()
        page = paginator.paginate_queryset(tokens_of(request.user), request, view=self)
        return paginator.get_paginated_response(TokenOut(page, many=True).data)

    # Not idempotent by key on purpose: a replayed response would have to store the
    # secret, and the secret is stored nowhere.
    @extend_schema(request=Input, responses={201: IssuedTokenOut, **errors(400, 409)})
    def post(self, request):
        """Create a token for yourself; its secret is in this response only."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.token_issue(user=request.user, name=data.validated_data["name"],
                                      ttl_days=data.validated_data.get("ttl_days"),
                                      parent=request_token(request))
        return Response(IssuedTokenOut({"token": issued.token, "secret": issued.secret}).data,
                        status=status.HTTP_201_CREATED)


class TokenRevoke(APIView):
    @extend_schema(request=None, parameters=[IDEMPOTENCY_KEY],
                   responses={200: TokenOut, **errors(404, 422)})
    @idempotent
    def post(self, request, pk: int):
        """Revoke one of your tokens (and every token made with it): refused from the
        next request on. Revoking the token you call with is allowed; it is your last
        request with it."""
        visible_or_404(tokens_of(request.user), pk)
        token = services.token_revoke(token_id=pk, actor=request.user)
        return Response(TokenOut(token).data)
