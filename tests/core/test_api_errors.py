"""Every /api/ error is the API's JSON error shape, whatever raised it (govflow.core.api_errors
for what Django answers itself, govflow.core.api.exception_handler for DRF and the database);
console errors stay console pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import path

from govflow.urls import urlpatterns as real_urlpatterns

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("an unhandled bug")


urlpatterns = [path("api/boom", boom), *real_urlpatterns]


def assert_json_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json", response.content[:200]
    body = response.json()
    assert body["error"] == code
    assert isinstance(body["message"], str)
    assert body["message"]


@pytest.mark.parametrize("url", ["/api/releases/-1", "/api/releases/abc", "/api/no-such-thing",
                                 "/api/releases/1/no-such-action", "/api/"])
def test_an_unmatched_api_path_is_a_json_404(api, release_manager, url):
    assert_json_error(api(release_manager).get(url), 404, "not_found")


def test_an_anonymous_unmatched_api_path_is_a_json_404_too():
    assert_json_error(Client().get("/api/nothing/here"), 404, "not_found")


def test_an_id_past_the_databases_range_is_400_not_500(api, release_manager):
    response = api(release_manager).get("/api/releases/99999999999999999999")
    assert response.status_code in (400, 404)
    assert response["Content-Type"] == "application/json"


def test_an_unhandled_exception_under_api_is_a_json_500(settings, release_manager):
    # given a view outside DRF that fails (DEBUG on: Django's technical page otherwise)
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = True
    client = Client(raise_request_exception=False)
    # when it is requested
    response = client.get("/api/boom")
    # then the body is JSON, not the HTML traceback
    assert_json_error(response, 500, "server_error")
    assert b"Traceback" not in response.content


def test_a_malformed_body_under_api_is_json(api, release_manager):
    response = api(release_manager).post("/api/systems/register", "{not json",
                                         content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_method_not_allowed_under_api_is_json(api, release_manager):
    response = api(release_manager).delete("/api/me")
    assert_json_error(response, 405, "method_not_allowed")


def test_a_console_404_is_still_a_page(release_manager):
    client = Client()
    client.force_login(release_manager)
    response = client.get("/console/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
