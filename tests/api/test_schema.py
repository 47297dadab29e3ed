"""The OpenAPI schema and its docs page: public, complete, and served without a CDN."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import URLPattern, URLResolver

from govflow import api_urls

pytestmark = pytest.mark.django_db

_PARAM = re.compile(r"\{[^}]*\}")


def _route(pattern) -> str:
    text = str(pattern).lstrip("^").rstrip("$")
    text = re.sub(r"\(\?P<\w+>[^)]*\)", "{}", text)  # router regexes
    return re.sub(r"<(?:\w+:)?\w+>", "{}", text)  # path() converters


def api_routes(patterns=api_urls.urlpatterns, prefix: str = "/api/") -> set[str]:
    """Every URL under /api/, with path parameters written as {}."""
    routes: set[str] = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            routes |= api_routes(entry.url_patterns, prefix + _route(entry.pattern))
        elif isinstance(entry, URLPattern):
            routes.add(prefix + _route(entry.pattern))
    return routes


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200, "the schema is public: no token needed"
    return response.json()


def operations(schema, method: str):
    for path, item in schema["paths"].items():
        if method in item:
            yield path, item[method]


def request_properties(schema, operation, media_type: str = "application/json") -> set[str]:
    ref = operation["requestBody"]["content"][media_type]["schema"]["$ref"]
    return set(schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"])


def test_every_api_url_is_in_the_schema(schema):
    documented = {_PARAM.sub("{}", path) for path in schema["paths"]}

    assert api_routes() - documented == set()


def test_every_post_documents_its_error_responses(schema):
    missing = {}
    for path, operation in operations(schema, "post"):
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        expected = {"400"} if "requestBody" in operation else set()
        if "{" in path:
            expected.add("404")  # an object you may not see does not exist
        if "If-Match" in headers:
            expected |= {"412", "428"}
        if "Idempotency-Key" in headers:
            expected.add("422")
        documented = {code for code in operation["responses"] if code.startswith("4")}
        if not documented:
            missing[path] = ["any 4xx"]
        elif expected - documented:
            missing[path] = sorted(expected - documented)
        for code in documented:
            body = operation["responses"][code]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/Error"}, (path, code)

    assert missing == {}


def test_governance_actions_document_if_match_and_idempotency_key(schema):
    for action in ("advance", "rollback", "pause", "resume", "halt"):
        operation = schema["paths"][f"/api/releases/{{id}}/{action}"]["post"]
        headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
        assert headers["If-Match"]["required"] is True
        assert headers["Idempotency-Key"].get("required", False) is False


def test_each_endpoint_documents_its_own_request_body(schema):
    # Every view names its input serializer `Input`; each must still be its own component.
    paths = schema["paths"]
    assert request_properties(schema, paths["/api/releases/open"]["post"]) == {
        "system_version", "title", "policy"
    }
    assert request_properties(schema, paths["/api/releases/{id}/rollback"]["post"]) == {
        "target", "reason"
    }
    assert request_properties(schema, paths["/api/systems/register"]["post"]) == {
        "name", "manifest"
    }
    evidence = paths["/api/releases/{id}/evidence"]["post"]
    assert {"file", "document_type", "sha256"} <= request_properties(
        schema, evidence, "multipart/form-data"
    )


def test_the_schema_documents_bearer_tokens(schema):
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "govflow token"
    }
    operation = schema["paths"]["/api/releases"]["get"]
    assert {"bearerAuth": []} in operation["security"]


def test_the_docs_page_loads_nothing_from_another_site(api):
    response = api().get("/api/docs/")

    html = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    scripts = re.findall(r"<script[^>]*\bsrc=[\"']([^\"']+)", html)
    assets = re.findall(r"\b(?:src|href)=[\"']([^\"']+)", html)
    assert scripts, "the page should load Swagger UI"
    assert [url for url in assets if re.match(r"(?i)(https?:)?//", url)] == []
    # and what it loads is really installed (the sidecar package), not a dead link
    for url in scripts:
        if url.startswith("/api/docs/?"):
            continue  # its own settings script (the split view keeps script-src strict)
        assert url.startswith("/static/")
        assert finders.find(url.removeprefix("/static/")), url
