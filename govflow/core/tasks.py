"""Queue Celery tasks only once the surrounding transaction has committed.

A task queued inside a transaction could run before the commit (and see nothing) or
after a rollback (and act on a change that never happened). Every service queues
through `enqueue_after_commit`, never `task.delay` directly.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction


def enqueue_after_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs), robust=True)
