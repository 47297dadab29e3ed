"""REST endpoints for registered policy versions (read-only)."""

from __future__ import annotations

from rest_framework import mixins, serializers, viewsets

from govflow.policy.models import PolicyVersion


class PolicyVersionOut(serializers.ModelSerializer):
    class Meta:
        model = PolicyVersion
        fields = ["id", "name", "version", "digest", "source_path", "source", "document",
                  "registered_at"]


class PolicyVersionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Every policy version a release has been opened under. Policies are public rules."""

    serializer_class = PolicyVersionOut
    queryset = PolicyVersion.objects.all()
