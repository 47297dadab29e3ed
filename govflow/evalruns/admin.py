from django.contrib import admin

from govflow.core.admin_base import ReadOnlyAdmin
from govflow.evalruns.models import EvalRun, EvalSample


@admin.register(EvalRun)
class EvalRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "release", "scenario", "status", "total_samples", "endpoint",
                    "created_by", "created_at", "completed_at"]
    list_filter = ["status", "scenario"]


@admin.register(EvalSample)
class EvalSampleAdmin(ReadOnlyAdmin):
    list_display = ["id", "run", "cell_key", "paraphrase", "sample_index", "status"]
    list_filter = ["status"]
