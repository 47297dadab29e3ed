"""Row locks for eval-run services. Lock before reading state you will act on."""

from __future__ import annotations

from govflow.evalruns.models import EvalRun


def lock_eval_run(run_id: int) -> EvalRun | None:
    """The run, locked; None when it does not exist (a task for a deleted test database,
    or a message redelivered long after: nothing to do)."""
    return (
        EvalRun.objects.select_for_update(of=("self",))
        .select_related("release")
        .filter(pk=run_id)
        .first()
    )
