"""Names people read (a customer's display name, an organization's name): plain text with
no control characters and no bidirectional-text controls, which could make a console page
or an exported report show something other than what is stored."""

from __future__ import annotations

from govflow.core.boundedjson import InputRefused, check_display_name
from govflow.core.errors import ValidationFailed


def display_name_checked(value: str, *, path: str = "display_name") -> str:
    try:
        check_display_name(value, path)
    except InputRefused as exc:
        raise ValidationFailed(f"{path} is not a plain name", detail={
            "fields": [{"path": exc.path, "message": exc.message}]}) from exc
    return value
