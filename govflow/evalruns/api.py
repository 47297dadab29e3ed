"""REST endpoints for eval runs: start one for a release, read runs and samples, resume,
withdraw."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from govflow.core.api import Pagination
from govflow.core.idempotency import idempotent
from govflow.core.schema import IDEMPOTENCY_KEY, errors
from govflow.evalruns import services
from govflow.evalruns.access import (
    access_eval_run,
    access_eval_run_action,
    access_eval_run_start,
)
from govflow.evalruns.endpoints import configured
from govflow.evalruns.selectors import eval_runs_filtered, eval_samples_of, run_progress
from govflow.evalruns.serializers import EvalRunDetailOut, EvalRunOut, EvalSampleOut
from govflow.releases.access import access_release

RUN_FILTERS = [
    OpenApiParameter("status", str, description="queued, running, completed, failed, withdrawn"),
    OpenApiParameter("scenario", str),
]


def _detail(run) -> dict:
    run.progress = run_progress(run)
    return EvalRunDetailOut(run).data


def _page(request, view, qs, serializer):
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


class ReleaseEvalRuns(APIView):
    # Its GET pages by hand; declared so the schema documents the paginated body.
    pagination_class = Pagination

    class Input(serializers.Serializer):
        scenario = serializers.RegexField(r"^[a-z][a-z0-9_]{0,63}$",
                                          help_text="a scenario name, e.g. insider_trading")
        factors = serializers.DictField(
            child=serializers.ListField(child=serializers.CharField(max_length=64),
                                        min_length=1, max_length=16),
            required=False, default=dict,
            help_text="factor -> levels to cross, e.g. {\"pressure\": [\"none\", \"high\"]}; "
                      "empty: the scenario's default design",
        )
        samples_per_cell = serializers.IntegerField(min_value=1)
        endpoint = serializers.CharField(
            max_length=200, help_text="name of an operator-configured endpoint (never a URL)")
        judge_endpoint = serializers.CharField(
            max_length=200, help_text="name of an operator-configured endpoint for the judge")
        seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)
        temperature = serializers.FloatField(min_value=0.0, max_value=2.0, default=1.0)
        top_p = serializers.FloatField(
            min_value=0.0, max_value=1.0, required=False, allow_null=True, default=None,
            help_text="sent to the endpoint when given; absent: the endpoint's default")
        max_tokens = serializers.IntegerField(
            min_value=1, max_value=1_000_000, required=False, allow_null=True, default=None,
            help_text="per reply, sent to the endpoint when given; absent: not sent")
        early_stop = serializers.BooleanField(
            required=False, allow_null=True, default=None,
            help_text="stop each cell once the policy's deception gate decides it (pass or "
                      "fail); default: on when that gate uses the anytime bound; true is "
                      "refused under fixed_n")

        def validate(self, attrs):
            # Refuse what we do not read (a `base_url`, an `api_key`): silently ignoring
            # it would let a caller believe the server used it.
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: "unknown field; endpoints are chosen by name" for name in unknown})
            return attrs

    @extend_schema(parameters=RUN_FILTERS, responses={200: EvalRunOut(many=True), **errors(404)})
    def get(self, request, pk: int):
        """The release's eval runs, newest first."""
        access_release(request.user, pk)
        params = request.query_params
        qs = eval_runs_filtered(request.user, release=pk, status=params.get("status"),
                                scenario=params.get("scenario"))
        return _page(request, self, qs, EvalRunOut)

    @extend_schema(request=Input, parameters=[IDEMPOTENCY_KEY],
                   responses={201: EvalRunDetailOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request, pk: int):
        """Start an eval run of the release's system version: queued now, fanned out over
        the Celery workers; `GET /api/eval-runs/{id}` shows its progress and summary."""
        access_eval_run_start(request.user, pk)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.eval_run_start(release_id=pk, actor=request.user, **data.validated_data)
        return Response(_detail(run), status=status.HTTP_201_CREATED)


class EvalRunList(APIView):
    # Its GET pages by hand; declared so the schema documents the paginated body.
    pagination_class = Pagination

    @extend_schema(parameters=[OpenApiParameter("release", int), *RUN_FILTERS],
                   responses={200: EvalRunOut(many=True)})
    def get(self, request):
        """Eval runs you may see: your lab's, or every lab's for a regulator."""
        params = request.query_params
        release = params.get("release", "")
        qs = eval_runs_filtered(request.user,
                                release=int(release) if release.isdigit() else None,
                                status=params.get("status"), scenario=params.get("scenario"))
        return _page(request, self, qs, EvalRunOut)


class EvalRunDetail(APIView):
    @extend_schema(responses={200: EvalRunDetailOut, **errors(404)})
    def get(self, request, pk: int):
        """A run: its status, progress counts and, once completed, its summary (the funnel
        per cell with Wilson and Clopper–Pearson intervals, kappa, the worst cell)."""
        return Response(_detail(access_eval_run(request.user, pk)))


class EvalRunResume(APIView):
    @extend_schema(request=None, parameters=[IDEMPOTENCY_KEY],
                   responses={200: EvalRunDetailOut, **errors(403, 404, 409, 422)})
    @idempotent
    def post(self, request, pk: int):
        """Queue a failed or interrupted run again: only its missing samples are run."""
        access_eval_run_action(request.user, pk)
        run = services.eval_run_resume(run_id=pk, actor=request.user)
        return Response(_detail(run))


class EvalRunWithdraw(APIView):
    class Input(serializers.Serializer):
        reason = serializers.CharField(max_length=2000, help_text="logged in the audit log")

    @extend_schema(request=Input, parameters=[IDEMPOTENCY_KEY],
                   responses={200: EvalRunDetailOut, **errors(400, 403, 404, 409, 422)})
    @idempotent
    def post(self, request, pk: int):
        """Stop a run that has not completed, with a reason that is logged. Its stored
        samples keep counting in every deception gate of the system version."""
        access_eval_run_action(request.user, pk)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.eval_run_withdraw(run_id=pk, reason=data.validated_data["reason"],
                                         actor=request.user)
        return Response(_detail(run))


class EvalSampleList(APIView):
    # Its GET pages by hand; declared so the schema documents the paginated body.
    pagination_class = Pagination

    @extend_schema(
        parameters=[OpenApiParameter("cell", str, description="a cell key"),
                    OpenApiParameter("status", str, description="ok, invalid, error")],
        responses={200: EvalSampleOut(many=True), **errors(404)},
    )
    def get(self, request, pk: int):
        """The run's stored samples, each with its full record (grades, transcript,
        provenance), page by page."""
        run = access_eval_run(request.user, pk)
        qs = eval_samples_of(run, cell=request.query_params.get("cell"),
                             status=request.query_params.get("status"))
        return _page(request, self, qs, EvalSampleOut)


class EvalEndpointList(APIView):
    @extend_schema(responses={200: inline_serializer("EvalEndpoint", many=True, fields={
        "name": serializers.CharField(), "model": serializers.CharField()})})
    def get(self, request):
        """The endpoints an eval run may name (set by the operator; URLs are not shown)."""
        return Response([{"name": name, "model": spec["model"]}
                         for name, spec in sorted(configured().items())])
