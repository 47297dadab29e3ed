"""Settings come from the environment and fail loudly; production refuses demo defaults.

Each case starts a fresh process, because settings are read once at start-up.
"""

from __future__ import annotations

import functools
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from govflow.core.env import env_bool, env_str

REPO = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run `manage.py <args>` with only the given govflow/Django environment."""
    base = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "GOVFLOW_", "DATABASE_", "CELERY_"))
    }
    base.update(
        GOVFLOW_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3",
        DJANGO_SETTINGS_MODULE="govflow.settings",
        **env,
    )
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        cwd=REPO, env=base, capture_output=True, text=True, timeout=60,
    )


@functools.cache
def log_key_file() -> str:
    """A real Ed25519 checkpoint-signing key, as production must have."""
    from govflow.trust.keys import generate_private_key, save_private_key

    path = Path(tempfile.mkdtemp()) / "log-signing-key.pem"
    save_private_key(generate_private_key(), path)
    return str(path)


def production(**env: str) -> dict[str, str]:
    return {
        "GOVFLOW_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),  # 64 characters
        "DJANGO_ALLOWED_HOSTS": "govflow.example",
        "GOVFLOW_LOG_SIGNING_KEY_FILE": log_key_file(),
        **env,
    }


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = run(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **production())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_the_demo_secret_key(tmp_path):
    env = production()
    del env["DJANGO_SECRET_KEY"]

    result = run(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **env)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert "govflow.E001" in result.stderr


def test_production_refuses_debug(tmp_path):
    result = run(tmp_path, "check", "--deploy", **production(DJANGO_DEBUG="true"))

    assert result.returncode != 0
    assert "DJANGO_DEBUG is on" in result.stderr


def test_a_malformed_boolean_stops_start_up_naming_the_variable(tmp_path):
    result = run(tmp_path, "check", DJANGO_DEBUG="maybe")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_DEBUG='maybe'" in result.stderr


def test_the_secret_key_is_read_from_a_file(tmp_path):
    # given the key only in a file, as Docker and Kubernetes secrets provide it
    key = secrets.token_urlsafe(48)
    key_file = tmp_path / "secret_key"
    key_file.write_text(key + "\n")
    env = production(DJANGO_SECRET_KEY_FILE=str(key_file))
    del env["DJANGO_SECRET_KEY"]

    # when the service starts, then it uses that key and passes the deploy check
    shown = run(
        tmp_path, "shell", "--no-imports", "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        **env,
    )
    checked = run(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **env)

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == key
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_file_wins_over_the_variable(monkeypatch, tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text("from-file\n")
    monkeypatch.setenv("DJANGO_SECRET_KEY", "from-variable")
    monkeypatch.setenv("DJANGO_SECRET_KEY_FILE", str(key_file))

    assert env_str("DJANGO_SECRET_KEY") == "from-file"


def test_an_unreadable_secret_file_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("DJANGO_SECRET_KEY_FILE", str(tmp_path / "missing"))

    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY_FILE"):
        env_str("DJANGO_SECRET_KEY")


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("0", False), ("", False)])
def test_booleans_are_read_strictly(monkeypatch, raw, value):
    monkeypatch.setenv("GOVFLOW_TEST_FLAG", raw)
    assert env_bool("GOVFLOW_TEST_FLAG", default=not value) is value


def test_production_refuses_to_start_without_a_log_signing_key(tmp_path):
    env = production()
    del env["GOVFLOW_LOG_SIGNING_KEY_FILE"]

    result = run(tmp_path, "check", "--deploy", **env)

    assert result.returncode != 0
    assert "GOVFLOW_LOG_SIGNING_KEY_FILE is not set" in result.stderr


def test_production_web_process_refuses_an_unreachable_database(tmp_path):
    # Importing the WSGI application is what gunicorn does when a worker boots.
    env = production(DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    base = dict(os.environ, DJANGO_SETTINGS_MODULE="govflow.settings", **env)
    result = subprocess.run(
        [sys.executable, "-c", "import govflow.wsgi"],
        cwd=REPO, env=base, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "govflow refuses to start in production" in result.stderr
    assert "DATABASE_URL is unreachable" in result.stderr
