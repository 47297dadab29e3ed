"""REST endpoints about organizations and the caller."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.accounts.models import Organization
from govflow.accounts.selectors import organizations_visible_to, user_organization, user_roles


class OrganizationOut(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "kind"]


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
                "username": request.user.get_username(),
                "organization": OrganizationOut(org).data if org else None,
                "roles": sorted(user_roles(request.user)),
            }
        )
