"""What a console signing action is, and how its form is read.

An `Action` prepares the statement its signer signs (in the browser, `sign.js`, or with
the client) and hands the envelope that comes back to the kernel's signed act, the same
`act_perform` its API endpoint calls. The regulator's actions are in `actions.py`, the
lab's and the auditors' in `lab_actions.py`; `ACTIONS` (actions.py) names them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from govflow.accounts.access import not_found
from govflow.core.errors import ValidationFailed, field_error
from govflow.keys.acts import ACTS, SignedAct, act_perform


def form_text(data: Mapping[str, str], name: str) -> str:
    value = (data.get(name) or "").strip()
    if not value:
        raise field_error(name, "required", summary=f"{name.replace('_', ' ')} is required")
    return value


def form_id(data: Mapping[str, str], name: str) -> int:
    value = form_text(data, name)
    if not value.isdigit():
        not_found()
    return int(value)


def form_when(data: Mapping[str, str], name: str) -> datetime:
    raw = form_text(data, name)
    moment = parse_datetime(raw)
    if moment is None and (day := parse_date(raw)) is not None:
        moment = datetime.combine(day, time(0, 0))
    if moment is None:
        raise ValidationFailed(f"{name} must be a date (YYYY-MM-DD)")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


@dataclass(frozen=True)
class Action:
    name: str
    title: str
    prepare: Callable[[Any, Mapping[str, str]], tuple[dict[str, Any], dict[str, str]]]
    act: str  # the kernel's signed act (govflow.keys.acts.ACTS) the envelope goes to
    # (result, form data) -> (message, where to go next)
    done: Callable[[Any, Mapping[str, str]], tuple[str, str]]
    target: str = ""  # the form field naming the object acted on, if any
    fields: tuple[str, ...] = field(default=())
    # the act's target from the form, when it is not one id (a cohort: (release, stage))
    target_of: Callable[[Mapping[str, str]], Any] | None = None

    def signed_act(self) -> SignedAct:
        return ACTS[self.act]

    def submit(self, user, envelope, data: Mapping[str, str]) -> tuple[str, str]:
        if self.target_of is not None:
            target = self.target_of(data)
        else:
            target = form_id(data, self.target) if self.target else None
        result = act_perform(self.signed_act(), envelope=envelope, actor=user, target=target)
        return self.done(result, data)
