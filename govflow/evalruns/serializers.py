"""Output serializers for eval runs (input serializers live next to their endpoint)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from govflow.evalruns.models import EvalRun, EvalSample


class EvalRunOut(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username")
    stored = serializers.SerializerMethodField(help_text="samples stored so far")
    simulated = serializers.SerializerMethodField(
        help_text="true when a SIMULATED endpoint answered: its numbers describe a simulator "
                  "profile, not any real model (known once the run completed)")

    class Meta:
        model = EvalRun
        fields = [
            "id", "release", "scenario", "scenario_digest", "factors", "cells",
            "samples_per_cell", "total_samples", "stored", "endpoint", "endpoint_model",
            "judge_endpoint", "judge_model", "seed", "temperature", "top_p", "max_tokens",
            "status", "failure_reason",
            "withdrawal_reason",
            "early_stop", "stop_decisions",
            "summary_digest", "samples_digest", "simulated", "created_by", "created_at",
            "started_at", "completed_at",
        ]

    def get_stored(self, run) -> int:
        stored = getattr(run, "stored", None)
        return stored if stored is not None else run.samples.count()

    def get_simulated(self, run) -> bool | None:
        return bool(run.summary.get("simulated")) if run.summary else None


class ProgressOut(serializers.Serializer):
    total = serializers.IntegerField()
    stored = serializers.IntegerField()
    missing = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField(),
                                      help_text="stored samples by status: ok, invalid, error")


@extend_schema_field({"type": "object", "description": "evals.stats.summarize: per-cell "
                      "funnel (k, n, rate, wilson, clopper_pearson per metric), overall, kappa, "
                      "worst_cell per metric"})
class SummaryField(serializers.JSONField):
    pass


class EvalRunDetailOut(EvalRunOut):
    progress = ProgressOut(read_only=True)
    summary = SummaryField(read_only=True, allow_null=True)  # null until the run completes

    class Meta(EvalRunOut.Meta):
        fields = [*EvalRunOut.Meta.fields, "progress", "summary"]


class EvalSampleOut(serializers.ModelSerializer):
    class Meta:
        model = EvalSample
        fields = ["id", "run", "cell_key", "paraphrase", "sample_index", "status",
                  "record_digest", "recorded_at", "record"]
