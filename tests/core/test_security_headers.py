"""Security headers: a strict Content-Security-Policy (django-csp) on every page, with the
console's own scripts allowed by nonce and no inline script anywhere; the existing
headers stay; /api/schema/ and /api/docs/ can be closed, and are closed in production."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import clear_url_caches

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("url", ["/console/login/", "/whistleblow/", "/admin/login/"])
def test_every_page_has_a_policy_without_inline_script(url):
    response = Client().get(url)
    assert response.status_code == 200
    directives = policy(response)
    assert directives["default-src"] == ["'none'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    # and the headers that were there before stay
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_consoles_script_carries_the_nonce_of_its_policy(regulator):
    client = Client()
    client.force_login(regulator)
    response = client.get("/console/keys/")
    assert response.status_code == 200
    [nonce] = [s.removeprefix("'nonce-").removesuffix("'")
               for s in policy(response)["script-src"] if s.startswith("'nonce-")]
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    executable = [tag for tag in scripts if 'type="application/json"' not in tag]
    assert executable, "the keys page loads sign.js"
    for tag in executable:
        assert "src=" in tag, f"inline script: {tag}"
        assert f'nonce="{nonce}"' in tag


def test_api_docs_are_served_by_default_outside_production(api):
    assert api().get("/api/schema/").status_code == 200
    docs = api().get("/api/docs/")
    assert docs.status_code == 200
    assert "'unsafe-inline'" not in policy(docs)["script-src"]


@pytest.fixture
def reload_urls(settings):
    import govflow.urls

    def reload():
        importlib.reload(govflow.urls)
        clear_url_caches()

    yield reload
    settings.GOVFLOW_API_DOCS_PUBLIC = True
    reload()


def test_closed_api_docs_are_a_json_404(api, settings, reload_urls):
    # given the schema and docs closed (the production default)
    settings.GOVFLOW_API_DOCS_PUBLIC = False
    reload_urls()
    # then neither is served, and the answer is the API's JSON 404
    for url in ("/api/schema/", "/api/docs/"):
        response = api().get(url)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


def test_production_closes_the_api_docs_unless_told_otherwise(tmp_path):
    def read(**env: str) -> str:
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("DJANGO_", "GOVFLOW_", "DATABASE_"))}
        base.update(GOVFLOW_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="govflow.settings",
                    DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3", **env)
        code = "from django.conf import settings; print(settings.GOVFLOW_API_DOCS_PUBLIC)"
        done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=base,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert read(GOVFLOW_ENV="production") == "False"
    assert read(GOVFLOW_ENV="production", GOVFLOW_API_DOCS_PUBLIC="true") == "True"
    assert read() == "True"


@pytest.mark.parametrize("url", ["/console/login/", "/whistleblow/", "/whistleblow/receipt/"])
def test_outside_the_admin_and_the_api_docs_scripts_run_by_nonce_only(url):
    # a strict policy: being a file from this origin is not enough (an uploaded evidence
    # file is one), only a script carrying this response's nonce runs
    # (a page that loads no script uses no nonce: its script-src lists no source at all,
    # which matches nothing)
    response = Client().get(url)

    assert policy(response)["script-src"] == []
    directives = [d.strip() for d in response["Content-Security-Policy"].split(";")]
    assert "script-src" in directives  # present and empty, wherever it falls in the header


def test_the_console_pages_signed_in_allow_scripts_by_nonce_only(regulator):
    client = Client()
    client.force_login(regulator)
    for url in ("/console/", "/console/keys/", "/console/oversight/", "/console/audit/"):
        sources = policy(client.get(url))["script-src"]
        assert all(re.fullmatch(r"'nonce-[A-Za-z0-9+/=_-]{16,}'", s) for s in sources), url
    # the keys page loads sign.js, by its nonce
    assert len(policy(client.get("/console/keys/"))["script-src"]) == 1


def test_the_admin_and_the_api_docs_allow_this_origins_scripts_not_inline(api, regulator):
    admin = Client()
    regulator.is_staff = regulator.is_superuser = True
    regulator.save()
    admin.force_login(regulator)

    for response in (Client().get("/admin/login/"), admin.get("/admin/"),
                     admin.get("/admin/accounts/organization/"), api().get("/api/docs/")):
        assert response.status_code == 200
        assert policy(response)["script-src"] == ["'self'"]
