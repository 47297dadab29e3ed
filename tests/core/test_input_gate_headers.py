"""The input gate's header checks (govflow.core.inputgate.check_headers): too many or too
large headers are 431, a control character or a character outside latin-1 in any header,
anything but visible ASCII in a header govflow reads, and a malformed Idempotency-Key are
400 naming the header, before DRF, Django's cookie parsing or axes read them."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from django.test import Client

from govflow.core import inputgate
from govflow.rollout.providers.hmac_webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER
from govflow.systems.models import AISystem
from tests import factories

pytestmark = pytest.mark.django_db

# "é" as a browser sends it (UTF-8), as WSGI hands it over (each byte a latin-1 character)
UTF8_ON_THE_WIRE = "caf\u00e9".encode().decode("latin-1")


def field(response) -> dict:
    [only] = response.json()["fields"]
    return only


@pytest.mark.parametrize("header", ["HTTP_AUTHORIZATION", "HTTP_IF_MATCH",
                                    "HTTP_IDEMPOTENCY_KEY", "HTTP_COOKIE"])
def test_a_character_outside_latin_1_in_a_header_is_400_not_500(header):
    # given a value no HTTP server can produce (only an in-process caller): DRF's
    # get_authorization_header raised UnicodeEncodeError on it, a 500
    response = Client().get("/api/me", **{header: "Bearer \u043a\u043b\u044e\u0447"})

    assert response.status_code == 400
    assert field(response) == {"path": inputgate.header_name(header),
                               "message": "contains U+043A, a character outside latin-1"}


@pytest.mark.parametrize("header", ["HTTP_AUTHORIZATION", "HTTP_USER_AGENT",
                                    "HTTP_ACCEPT_LANGUAGE", "HTTP_X_ANYTHING"])
@pytest.mark.parametrize("control", ["\x00", "\x1b", "\x7f", "\n"])
def test_a_control_character_in_any_header_is_400(header, control):
    response = Client().get("/api/me", **{header: f"abc{control}def"})

    assert response.status_code == 400
    assert field(response)["path"] == inputgate.header_name(header)
    assert "control character" in field(response)["message"]


def test_utf8_bytes_are_allowed_in_headers_govflow_does_not_read(api, release_manager):
    client = api(release_manager)

    ok = client.get("/api/me", HTTP_USER_AGENT=f"agent {UTF8_ON_THE_WIRE}\tv1",
                    HTTP_ACCEPT_LANGUAGE="fr")

    assert ok.status_code == 200


def test_a_parent_domains_utf8_cookie_does_not_lock_anyone_out(release_manager):
    client = Client()
    client.force_login(release_manager)
    client.cookies["prefs"] = f"lang={UTF8_ON_THE_WIRE}"

    assert client.get("/console/").status_code == 200


@pytest.mark.parametrize("header", sorted(inputgate.READ_HEADERS - {"CONTENT_LENGTH"}))
def test_a_header_govflow_reads_must_be_visible_ascii(header):
    response = Client().get("/api/me", **{header: f"x {UTF8_ON_THE_WIRE}"})

    assert response.status_code == 400
    assert field(response) == {"path": inputgate.header_name(header),
                               "message": "contains U+00C3; this header is ASCII"}


def test_the_kyc_webhooks_headers_are_among_those_read():
    for name in (SIGNATURE_HEADER, TIMESTAMP_HEADER):
        assert "HTTP_" + name.upper().replace("-", "_") in inputgate.READ_HEADERS


def test_a_header_over_8190_bytes_is_431():
    at_limit = Client().get("/api/me", HTTP_X_PADDING="a" * inputgate.MAX_HEADER_VALUE_BYTES)
    over = Client().get("/api/me", HTTP_X_PADDING="a" * (inputgate.MAX_HEADER_VALUE_BYTES + 1))

    assert at_limit.status_code == 401  # through the gate: not signed in
    assert over.status_code == 431
    assert over.json()["error"] == "too_large"
    assert field(over) == {"path": "X-Padding", "message": "too large"}


def test_more_than_64_header_fields_is_431():
    def headers(n):
        return {f"HTTP_X_H{i}": "1" for i in range(n)}

    # the test client adds its own Cookie header: one fewer of ours fits
    assert Client().get("/api/me", **headers(inputgate.MAX_HEADER_FIELDS - 1)).status_code == 401
    response = Client().get("/api/me", **headers(inputgate.MAX_HEADER_FIELDS + 1))

    assert response.status_code == 431
    assert "header fields" in response.json()["message"]


def test_headers_over_32_kib_in_all_are_431_each_under_its_own_limit():
    response = Client().get("/api/me", **{f"HTTP_X_PART{i}": "a" * 8000 for i in range(5)})

    assert response.status_code == 431
    assert "headers are too large" in response.json()["message"]


@pytest.mark.parametrize("key", ["", " padded", "a" * 256, "tab\there"])
def test_a_malformed_idempotency_key_is_400_wherever_it_is_sent(api, release_manager, key):
    client = api(release_manager)
    count = AISystem.objects.count()

    read = client.get("/api/me", HTTP_IDEMPOTENCY_KEY=key)
    write = client.post("/api/systems", {"name": "s", "description": ""}, format="json",
                        HTTP_IDEMPOTENCY_KEY=key)

    for response in (read, write):
        assert response.status_code == 400
        assert field(response) == {"path": "Idempotency-Key",
                                   "message": "must be 1 to 255 printable ASCII characters, "
                                              "not starting or ending with a space"}
    assert AISystem.objects.count() == count


def test_outside_the_api_a_header_refusal_is_plain_text():
    response = Client().get("/console/login/", HTTP_COOKIE="sessionid=\x00")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "Cookie: contains the control character U+0000" in response.content.decode()


def test_an_ordinary_browser_request_passes():
    person = factories.person(factories.organization(kind="lab"), "release_manager")
    client = Client()
    client.force_login(person)

    response = client.get("/console/", HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64)",
                          HTTP_ACCEPT="text/html,application/xhtml+xml;q=0.9,*/*;q=0.8",
                          HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9",
                          HTTP_REFERER="http://testserver/",
                          HTTP_ACCEPT_ENCODING="gzip, deflate, br")

    assert response.status_code == 200


def test_gunicorn_enforces_the_same_limits_in_front():
    conf = runpy.run_path(str(Path(__file__).resolve().parents[2] / "deploy" /
                              "gunicorn.conf.py"))

    assert conf["limit_request_fields"] == inputgate.MAX_HEADER_FIELDS
    assert conf["limit_request_field_size"] == inputgate.MAX_HEADER_VALUE_BYTES
    assert conf["limit_request_line"] <= 8190
