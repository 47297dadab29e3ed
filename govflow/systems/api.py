"""REST endpoints for AI systems and their versions."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.accounts.access import holds_any_role, is_member_of, visible_or_404
from govflow.accounts.models import Role
from govflow.accounts.selectors import user_organization
from govflow.core.errors import PermissionDenied
from govflow.core.idempotency import idempotent
from govflow.core.schema import IDEMPOTENCY_KEY, errors
from govflow.systems import services
from govflow.systems.models import AISystem, SystemVersion
from govflow.systems.selectors import system_versions_visible_to, systems_visible_to

MANIFEST_HELP = (
    "{model: {name, weights_digest 'sha256:…', parameter_count?, training_compute_flop?}, "
    "system_prompt_digest?, tools: [..], internet_access, code_execution, retrieval, "
    "fine_tuning_access, online_learning, open_weights}"
)


class SystemVersionOut(serializers.ModelSerializer):
    class Meta:
        model = SystemVersion
        fields = ["id", "system", "number", "manifest", "manifest_digest", "created_at"]


class SystemOut(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    latest_version = serializers.SerializerMethodField()

    class Meta:
        model = AISystem
        fields = ["id", "organization", "name", "created_at", "latest_version"]

    def get_latest_version(self, obj) -> int | None:
        versions = list(obj.versions.all())  # prefetched
        return max((v.number for v in versions), default=None)


def _require_release_manager(user) -> None:
    if not holds_any_role(user, (Role.RELEASE_MANAGER,)):
        raise PermissionDenied("this needs the release_manager role in a lab")


class SystemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """AI systems you may see: your lab's, or all for a regulator."""

    serializer_class = SystemOut

    def get_queryset(self):
        return systems_visible_to(self.request.user).prefetch_related("versions")


class SystemVersionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Immutable system versions (manifests)."""

    serializer_class = SystemVersionOut

    def get_queryset(self):
        qs = system_versions_visible_to(self.request.user)
        if system := self.request.query_params.get("system"):
            qs = qs.filter(system_id=system)
        return qs


class SystemRegister(APIView):
    class Input(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        manifest = serializers.JSONField(help_text=MANIFEST_HELP)

    @extend_schema(
        request=Input, parameters=[IDEMPOTENCY_KEY],
        responses={201: SystemVersionOut, **errors(400, 403, 409, 422)},
    )
    @idempotent
    def post(self, request):
        """Register a new AI system in your lab with its first manifest."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        _require_release_manager(request.user)
        version = services.system_register(
            organization=user_organization(request.user),
            name=data.validated_data["name"],
            manifest=data.validated_data["manifest"],
            actor=request.user,
        )
        return Response(SystemVersionOut(version).data, status=status.HTTP_201_CREATED)


class SystemVersionCreate(APIView):
    class Input(serializers.Serializer):
        manifest = serializers.JSONField(help_text=MANIFEST_HELP)

    @extend_schema(
        request=Input, parameters=[IDEMPOTENCY_KEY],
        responses={201: SystemVersionOut, **errors(400, 403, 404, 409, 422)},
    )
    @idempotent
    def post(self, request, pk: int):
        """Record a changed manifest as a new version; old versions never change."""
        system = visible_or_404(systems_visible_to(request.user), pk)
        if not is_member_of(request.user, system.organization_id):
            raise PermissionDenied("only the lab that owns the system may change it")
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        _require_release_manager(request.user)
        version = services.system_version_create(
            system_id=system.pk, manifest=data.validated_data["manifest"], actor=request.user
        )
        return Response(SystemVersionOut(version).data, status=status.HTTP_201_CREATED)
