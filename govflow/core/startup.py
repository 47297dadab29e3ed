"""Refuse to start a production process with demo defaults or missing essentials.

gunicorn (govflow/wsgi.py), the Celery worker and beat (govflow/celery.py) call
`assert_ready_for_production` at start-up; `manage.py check --deploy` reports the
configuration problems too (govflow/core/checks.py). Each message names the variable
to fix, because the person reading it is an operator at 3 a.m.
"""

from __future__ import annotations

from django.conf import settings


class NotReadyForProduction(SystemExit):
    def __init__(self, problems: list[str]):
        text = "govflow refuses to start in production:\n" + "\n".join(f"  - {p}" for p in problems)
        super().__init__(text)
        self.problems = problems


def configuration_problems() -> list[str]:
    problems = []
    if settings.SECRET_KEY == settings.DEMO_SECRET_KEY:
        problems.append("DJANGO_SECRET_KEY is the public demo default: set a long random value")
    if settings.DEBUG:
        problems.append("DJANGO_DEBUG is on: unset it or set it to false")
    key_file = settings.GOVFLOW_LOG_SIGNING_KEY_FILE
    if not key_file:
        problems.append(
            "GOVFLOW_LOG_SIGNING_KEY_FILE is not set: the audit log cannot sign checkpoints "
            "(create one with `python -m govflow.client keygen --out FILE`)"
        )
    else:
        try:
            from govflow.audit.logkey import log_signing_key

            log_signing_key()
        except Exception as exc:  # noqa: BLE001 (any failure here means: cannot sign)
            problems.append(f"GOVFLOW_LOG_SIGNING_KEY_FILE={key_file} is unusable: {exc}")
    return problems


def database_problem() -> str | None:
    from django.db import connection

    try:
        connection.ensure_connection()
    except Exception as exc:  # noqa: BLE001 (any failure here means: unreachable)
        return f"the database in DATABASE_URL is unreachable: {exc}".strip()
    finally:
        connection.close()
    return None


def assert_ready_for_production() -> None:
    if not settings.PRODUCTION:
        return
    problems = configuration_problems()
    db = database_problem()
    if db:
        problems.append(db)
    if problems:
        raise NotReadyForProduction(problems)
