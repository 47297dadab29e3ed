"""Checks every advance must pass besides its gates (settings.GOVFLOW_ADVANCE_CHECKS).

Gates belong to a policy, and a release keeps the policy it was opened under; a check
listed here applies to every release under every policy (a regulatory hold is one).
Releases know none of them by name, as the gate engine knows no gate kind by name.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


@cache
def advance_checks() -> tuple[Callable[..., None], ...]:
    return tuple(import_string(path) for path in settings.GOVFLOW_ADVANCE_CHECKS)


def run_advance_checks(*, release, target: str, actor) -> None:
    for check in advance_checks():
        check(release=release, target=target, actor=actor)
