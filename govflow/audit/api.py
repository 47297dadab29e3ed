"""REST endpoints of the audit log: events, checkpoints and Merkle proofs."""

from __future__ import annotations

import json
from typing import Any

from django.http import JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.accounts.access import holds_any_role, is_regulator, not_found, visible_or_404
from govflow.accounts.models import Role
from govflow.audit import log
from govflow.audit.export import build_bundle
from govflow.audit.logkey import log_origin, log_verifier_key
from govflow.audit.models import AuditEvent, Checkpoint
from govflow.audit.receipts import receipt_for
from govflow.audit.selectors import events_visible_to
from govflow.audit.witnessing import checkpoint_witness
from govflow.core.api import Pagination
from govflow.core.errors import PermissionDenied, field_error
from govflow.core.schema import errors
from govflow.releases.access import access_release


class EventOut(serializers.ModelSerializer):
    index = serializers.SerializerMethodField()
    # From the logged canonical bytes, not the `payload` column: the bytes are what the
    # tree and the checkpoints vouch for; the column is a convenience that could drift.
    payload = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = ["id", "index", "uuid", "event_type", "created_at", "release_id",
                  "subject_type", "subject_id", "payload", "canonical", "leaf_hash"]

    def get_payload(self, obj) -> dict[str, Any]:
        return json.loads(obj.canonical)["payload"]

    def get_index(self, obj) -> int | None:
        leaf = getattr(obj, "leaf", None)
        return leaf.index if leaf is not None else None


class CheckpointOut(serializers.ModelSerializer):
    root_hash = serializers.SerializerMethodField()
    cosignatures = serializers.SerializerMethodField(
        help_text="witness cosignature lines (C2SP tlog-cosignature); appended to `note` they "
        "make the cosigned checkpoint"
    )

    class Meta:
        model = Checkpoint
        fields = ["size", "root_hash", "note", "cosignatures", "created_at"]

    def get_root_hash(self, obj) -> str:
        return log.b64(bytes(obj.root_hash))

    def get_cosignatures(self, obj) -> list[str]:
        return [f"{c.line}\n" for c in obj.cosignatures.all()]


ProofOut = inline_serializer(
    name="Proof",
    fields={
        "hashes": serializers.ListField(child=serializers.CharField(), help_text="base64"),
    },
)


def _int_param(request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise field_error(name, "must be a whole number",
                          summary=f"{name} must be a whole number") from exc
    if value < 0:
        raise field_error(name, "must be >= 0",
                          summary=f"{name} must not be negative")
    return value


class EventList(APIView):
    # Its GET pages by hand; declared so the schema documents the paginated body.
    pagination_class = Pagination

    @extend_schema(
        parameters=[OpenApiParameter("release", int), OpenApiParameter("type", str),
                    OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: EventOut(many=True), **errors(400)},
    )
    def get(self, request):
        """Audit events you may see, oldest first, with their leaf index once sequenced."""
        qs = events_visible_to(request.user).order_by("id")
        if (release := _int_param(request, "release")) is not None:
            qs = qs.filter(release_id=release)
        if event_type := request.query_params.get("type"):
            qs = qs.filter(event_type=event_type)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(EventOut(page, many=True).data)


class LatestCheckpoint(APIView):
    @extend_schema(responses={200: CheckpointOut, **errors(404)})
    def get(self, request):
        """The newest signed checkpoint (C2SP tlog-checkpoint signed note)."""
        latest = Checkpoint.objects.order_by("-size").first()
        if latest is None:
            not_found()
        return Response(CheckpointOut(latest).data)


class CheckpointList(APIView):
    # Its GET pages by hand; declared so the schema documents the paginated body.
    pagination_class = Pagination

    @extend_schema(responses={200: CheckpointOut(many=True)})
    def get(self, request):
        """Every checkpoint, oldest first."""
        paginator = Pagination()
        page = paginator.paginate_queryset(Checkpoint.objects.order_by("size"), request, self)
        return paginator.get_paginated_response(CheckpointOut(page, many=True).data)

    @extend_schema(request=None, responses={201: CheckpointOut, 200: CheckpointOut, **errors(403)})
    def post(self, request):
        """Sign a checkpoint now (regulators and release managers)."""
        if not holds_any_role(request.user, (Role.REGULATOR, Role.RELEASE_MANAGER)):
            raise PermissionDenied("checkpoints on demand are for regulators and release managers")
        before = Checkpoint.objects.order_by("-size").values_list("size", flat=True).first()
        created = log.checkpoint_create()
        if created is None:
            return Response(
                {"error": "empty_log", "message": "the log has no events yet"},
                status=status.HTTP_409_CONFLICT,
            )
        checkpoint_witness(checkpoint=created)
        code = status.HTTP_201_CREATED if created.size != before else status.HTTP_200_OK
        return Response(CheckpointOut(created).data, status=code)


class LogKey(APIView):
    @extend_schema(
        responses=inline_serializer(
            name="LogKey",
            fields={"origin": serializers.CharField(), "verifier_key": serializers.CharField()},
        )
    )
    def get(self, request):
        """The log's public key, as a signed-note verifier key (name+keyid+key)."""
        return Response({"origin": log_origin(), "verifier_key": log_verifier_key()})


class InclusionProof(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("tree_size", int, description="default: latest checkpoint")],
        responses={200: ProofOut, **errors(400, 404)},
    )
    def get(self, request, event_id: int):
        """Proof that an event is in the tree of a given size (RFC 9162 §2.1.3)."""
        event = events_visible_to(request.user).filter(pk=event_id).first()
        if event is None or getattr(event, "leaf", None) is None:
            not_found()
        latest = Checkpoint.objects.order_by("-size").values_list("size", flat=True).first()
        tree_size = _int_param(request, "tree_size", latest)
        if tree_size is None or not event.leaf.index < tree_size <= (latest or 0):
            raise field_error(
                "tree_size", f"between {event.leaf.index + 1} and {latest}",
                summary="tree_size must be a checkpointed size that contains the event")
        hashes = log.inclusion_proof(event.leaf.index, tree_size)
        return Response({
            "event": event.pk, "index": event.leaf.index, "tree_size": tree_size,
            "leaf_hash": event.leaf_hash, "hashes": [log.b64(h) for h in hashes],
        })


class ConsistencyProof(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("first", int, required=True),
                    OpenApiParameter("second", int, required=True)],
        responses={200: ProofOut, **errors(400)},
    )
    def get(self, request):
        """Proof that the tree of size `first` is a prefix of the tree of size `second`."""
        first, second = _int_param(request, "first"), _int_param(request, "second")
        latest = Checkpoint.objects.order_by("-size").values_list("size", flat=True).first() or 0
        if first is None or second is None or not 0 < first <= second <= latest:
            raise field_error("first", f"latest size is {latest}",
                              summary="need 0 < first <= second <= the latest checkpoint size")
        hashes = log.consistency_proof(first, second)
        return Response({"first": first, "second": second,
                         "hashes": [log.b64(h) for h in hashes]})


class ExportBundle(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("release", int, description="omit for the whole log "
                                     "(regulators only)")],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, **errors(400, 403, 404)},
    )
    def get(self, request):
        """The offline-verification bundle of a release (or of the whole log).

        Verify it with `python -m govflow.verify BUNDLE [--trusted-checkpoint FILE]`.
        """
        release_id = _int_param(request, "release")
        if release_id is None:
            if not is_regulator(request.user):
                raise PermissionDenied("exporting the whole log is for regulators")
            release = None
        else:
            release = access_release(request.user, release_id)
        bundle = build_bundle(release=release)
        name = f"govflow-release-{release_id}.bundle.json" if release else "govflow-log.bundle.json"
        response = JsonResponse(bundle, json_dumps_params={"indent": 1})
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


ReceiptOut = inline_serializer(
    name="Receipt",
    fields={
        "format": serializers.CharField(help_text="govflow-receipt/v1"),
        "log": serializers.CharField(help_text="the log's origin line"),
        "event": serializers.IntegerField(),
        "uuid": serializers.UUIDField(),
        "event_type": serializers.CharField(),
        "leaf_hash": serializers.CharField(help_text="hex SHA-256(0x00 || canonical)"),
        "index": serializers.IntegerField(allow_null=True, help_text="null until sequenced"),
        "checkpoint": inline_serializer(
            name="ReceiptCheckpoint", allow_null=True,
            fields={"size": serializers.IntegerField(), "note": serializers.CharField(),
                    "cosignatures": serializers.ListField(child=serializers.CharField()),
                    "witnessed": serializers.BooleanField()},
        ),
        "inclusion": serializers.ListField(child=serializers.CharField(), allow_null=True,
                                           help_text="base64 RFC 9162 inclusion proof"),
        "complete_at": serializers.CharField(help_text="where to ask for the completed receipt"),
    },
)


class EventReceipt(APIView):
    @extend_schema(responses={200: ReceiptOut, **errors(404)})
    def get(self, request, event_id: int):
        """The receipt of an event, completed: leaf index, inclusion proof and the newest
        witnessed checkpoint holding it (note + cosignatures). While the event is not yet
        sequenced, `index`, `checkpoint` and `inclusion` are null: ask again later."""
        event = visible_or_404(events_visible_to(request.user), event_id)
        return Response(receipt_for(event))
