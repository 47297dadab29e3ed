"""Endpoints for moving a release to a new system version, with re-assessment."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.core.errors import NotFound, ValidationFailed
from govflow.core.idempotency import idempotent
from govflow.core.preconditions import expected_version
from govflow.core.schema import IDEMPOTENCY_KEY, IF_MATCH, errors
from govflow.monitoring import services
from govflow.monitoring.access import STEWARDS
from govflow.monitoring.affordances import reassess, required_coverage
from govflow.policy.selectors import policy_of
from govflow.releases.access import access_release, access_release_action
from govflow.releases.serializers import ReleaseOut, TransitionOut
from govflow.systems.models import SystemVersion

ReassessmentOut = inline_serializer("Reassessment", fields={
    "system_version": serializers.IntegerField(),
    "added": serializers.ListField(child=serializers.CharField(),
                                   help_text="affordances, reachable capabilities, tools "
                                             "(tool:<name>) and 'model' the version adds"),
    "newly_reachable": serializers.ListField(child=serializers.CharField()),
    "restart_reasons": serializers.DictField(child=serializers.CharField()),
    "restart_stage": serializers.CharField(allow_null=True,
                                           help_text="where the release goes back to, if "
                                                     "anywhere"),
    "required_coverage": serializers.ListField(child=serializers.CharField(),
                                               help_text="what eval gates must cover"),
})


def _preview(release, version: SystemVersion) -> dict:
    policy = policy_of(release.policy)
    result = reassess(release.system_version.manifest, version.manifest, policy)
    restart = result.restart_stage
    if restart is not None and policy.index(restart) >= policy.index(release.stage):
        restart = None
    return {"system_version": version.pk, "added": result.added,
            "newly_reachable": result.newly_reachable, "restart_reasons": result.reasons,
            "restart_stage": restart,
            "required_coverage": required_coverage(version, policy)}


class ReleaseSystemVersion(APIView):
    class Input(serializers.Serializer):
        system_version = serializers.IntegerField(help_text="a version of the same system")
        reason = serializers.CharField(max_length=4000)

    @extend_schema(
        parameters=[OpenApiParameter("system_version", int, required=True)],
        responses={200: ReassessmentOut, **errors(400, 404)},
    )
    def get(self, request, pk: int):
        """What moving the release to a system version would do (changes nothing): what it
        adds, where the policy sends the release back, what eval coverage it then needs."""
        release = access_release(request.user, pk)
        raw = request.query_params.get("system_version", "")
        if not (raw.isascii() and raw.isdigit()):
            raise ValidationFailed("system_version (an id) is required")
        version = SystemVersion.objects.filter(
            pk=int(raw), system_id=release.system_version.system_id).first()
        if version is None:
            raise NotFound(f"the release's system has no version {raw}")
        return Response(_preview(release, version))

    @extend_schema(
        request=Input, parameters=[IF_MATCH, IDEMPOTENCY_KEY],
        responses={200: inline_serializer("SystemVersionChanged", fields={
            "release": ReleaseOut(),
            "reassessment": ReassessmentOut,
            "transition": TransitionOut(allow_null=True),
        }), **errors(400, 403, 404, 409, 412, 422, 428)},
    )
    @idempotent
    def post(self, request, pk: int):
        """Move the release to a new version of its system. A version that adds
        affordances does not keep the stage: the release goes back to where the policy's
        `reassessment` section says (release managers and safety officers)."""
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        access_release_action(request.user, pk, STEWARDS)
        outcome = services.release_change_system_version(
            release_id=pk, system_version_id=data.validated_data["system_version"],
            reason=data.validated_data["reason"], actor=request.user,
            expected_version=expected_version(request, pk),
        )
        release, result = outcome.release, outcome.reassessment
        reassessment = {
            "system_version": release.system_version_id, "added": result.added,
            "newly_reachable": result.newly_reachable, "restart_reasons": result.reasons,
            "restart_stage": outcome.restarted_at,
            "required_coverage": required_coverage(release.system_version,
                                                   policy_of(release.policy)),
        }
        response = Response({
            "release": ReleaseOut(release).data,
            "reassessment": reassessment,
            "transition": TransitionOut(outcome.transition).data if outcome.transition else None,
        })
        response["ETag"] = release.etag
        return response
