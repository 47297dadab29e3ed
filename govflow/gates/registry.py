"""Finding gate kinds by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import import_module
from typing import Any

from django.conf import settings

from govflow.gates.params import Param


@dataclass(frozen=True)
class GateResult:
    met: bool
    reason: str
    # What the evaluation looked at, as JSON-safe data: digests, ids, counts, times.
    # It must not change with the clock alone, so that an approval of a report
    # still refers to the same evidence a minute later.
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GateKind:
    name: str
    description: str
    params: dict[str, Param]
    evaluate: Callable[[dict[str, Any], Any], GateResult]
    # Optional cross-parameter checks: returns (param name, message) problems.
    check: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None
    # Approval gates (sign-offs) judge a report rather than contribute evidence to
    # it; the report digest that signers approve leaves them out.
    is_approval: bool = False
    # Optional: load what `evaluate` reads for many releases at once, onto the release
    # objects (the console's list evaluates fifty). `evaluate` must give the same result
    # with or without it, so a caller that locks and re-reads (an advance) never uses it.
    prefetch: Callable[[list[Any]], None] | None = None


@cache
def gate_kinds() -> dict[str, GateKind]:
    kinds: dict[str, GateKind] = {}
    for path in settings.GOVFLOW_GATE_KINDS:
        kind = import_module(path).KIND
        if kind.name in kinds:
            raise RuntimeError(f"gate kind {kind.name!r} is registered twice ({path})")
        kinds[kind.name] = kind
    return kinds


def get_kind(name: str) -> GateKind | None:
    return gate_kinds().get(name)
