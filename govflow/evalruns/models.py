"""Eval runs of a release and their samples.

A run names a scenario (and the digest of its text when the run began), the factor levels
crossed, how many samples each cell gets, the operator-configured endpoints it calls (by
name) and its seed. Each finished sample is one `EvalSample` row, unique on (run, cell,
paraphrase, sample index): a chunk delivered twice, a worker killed mid-chunk or a resumed
run can only fill in samples that are missing, never add a second copy. Samples are
append-only (database triggers); the completion event commits to them by digest.

Only `govflow.evalruns.services` writes these rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class EvalRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    # Stopped by a person with a logged reason. Its stored samples still count in every gate
    # (withdrawing stops a run; it never erases what the run measured).
    WITHDRAWN = "withdrawn", "Withdrawn"


class EvalRun(models.Model):
    release = models.ForeignKey(
        "releases.Release", on_delete=models.PROTECT, related_name="eval_runs"
    )
    scenario = models.CharField(max_length=64)
    scenario_digest = models.CharField(max_length=71)
    # The levels crossed, factor -> [levels], as the caller chose them (factors left out
    # stay at the scenario's default level); `cells` is the resulting design.
    factors = models.JSONField(default=dict)
    cells = models.JSONField(default=list)
    samples_per_cell = models.PositiveIntegerField()
    total_samples = models.PositiveIntegerField()
    endpoint = models.CharField(max_length=64, help_text="operator-configured endpoint name")
    endpoint_model = models.CharField(max_length=200)
    judge_endpoint = models.CharField(max_length=64)
    judge_model = models.CharField(max_length=200)
    seed = models.BigIntegerField(default=0)
    temperature = models.FloatField(default=1.0)
    # None: not sent, the endpoint's default applies (recorded per sample as None too).
    top_p = models.FloatField(null=True, blank=True)
    max_tokens = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=EvalRunStatus.choices, default=EvalRunStatus.QUEUED
    )
    failure_reason = models.TextField(blank=True)
    withdrawal_reason = models.TextField(blank=True)
    # Early stopping (`govflow.evalruns.stopping`): the per-cell rule of every deception
    # gate it stops by, fixed at the start (null: the run goes to its planned size), and
    # each cell's decision and samples when the run completed.
    early_stop = models.JSONField(null=True, blank=True)
    stop_decisions = models.JSONField(null=True, blank=True)
    # `evals.stats.summarize` of every sample, and the digest (RFC 8785, SHA-256) the
    # completion event and gate evidence cite.
    summary = models.JSONField(null=True, blank=True)
    summary_digest = models.CharField(max_length=71, blank=True)
    samples_digest = models.CharField(max_length=71, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["release", "scenario", "status"])]

    def __str__(self) -> str:
        return f"eval run {self.pk} of release {self.release_id}: {self.scenario} [{self.status}]"


class EvalSample(models.Model):
    run = models.ForeignKey(EvalRun, on_delete=models.PROTECT, related_name="samples")
    cell_key = models.CharField(max_length=255)
    paraphrase = models.PositiveSmallIntegerField()
    sample_index = models.PositiveIntegerField()
    # ok | invalid | error, as the record says (an invalid reply is a graded outcome).
    status = models.CharField(max_length=16)
    record = models.JSONField()
    record_digest = models.CharField(max_length=71)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["run_id", "cell_key", "sample_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "cell_key", "paraphrase", "sample_index"],
                name="eval_sample_unique_key",
            )
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} {self.cell_key} p{self.paraphrase} #{self.sample_index}"

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.cell_key, self.paraphrase, self.sample_index)
