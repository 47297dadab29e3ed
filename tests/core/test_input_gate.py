"""The input gate (govflow.core.inputgate): control characters, deep JSON and oversize
bodies are refused before any view runs, with a 400 naming the field (413 for size);
nothing refused is stored. Each case is one the independent probe saw answer 500."""

from __future__ import annotations

import base64
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from govflow.audit.models import AuditEvent
from govflow.core.boundedjson import InputRefused, check_depth, parse_json
from govflow.oversight.models import WhistleblowerReport
from govflow.rollout.models import KycRecord
from govflow.rollout.services import customer_register
from govflow.systems.models import AISystem
from govflow.trust import dsse
from govflow.trust.intoto import PAYLOAD_TYPE
from tests import factories
from tests.rollout.support import post_webhook, webhook_body
from tests.signoffs.support import signer

pytestmark = pytest.mark.django_db

DEEP = "[" * 1000 + "]" * 1000  # about 2 KB: RecursionError in json.loads before the gate


def refused_field(response) -> str:
    body = response.json()
    assert body["error"] == "invalid", body
    return body["fields"][0]["path"]


@pytest.mark.parametrize(("url", "field"), [
    ("/api/releases?lab=%00", "lab"),
    ("/api/releases?stage=a%00b", "stage"),
    ("/api/keys?user=alice%00", "user"),
    ("/api/releases/1/eval-runs?status=queued%00", "status"),
    ("/api/eval-runs?scenario=%01", "scenario"),
    ("/api/organizations/fr%00", "path"),
    ("/api/log/events?type=%1b", "type"),
])
def test_a_control_character_in_the_url_is_400_naming_the_field(api, release_manager, url, field):
    # given a signed-in release manager
    client = api(release_manager)
    # when a query parameter or the path carries a control character
    response = client.get(url)
    # then 400 in the API's error shape, naming where it was
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert refused_field(response) == field
    assert "U+00" in response.json()["fields"][0]["message"]


@pytest.mark.parametrize("url", ["/console/?lab=%00", "/console/audit/?type=%00"])
def test_the_consoles_filters_refuse_a_nul_too(release_manager, url):
    client = Client()
    client.force_login(release_manager)
    response = client.get(url)
    assert response.status_code == 400
    assert b"U+0000" in response.content


def test_a_nul_in_a_manifest_is_400_and_registers_nothing(api, release_manager):
    # given a manifest whose model name carries an escaped NUL (valid JSON; PostgreSQL
    # refuses it in jsonb)
    body = json.dumps({"name": "agent", "manifest": factories.manifest(
        model={"name": "bad\u0000name", "weights_digest": "sha256:" + "0" * 64,
               "parameter_count": 1}, tools=[])})
    # when it is registered
    response = api(release_manager).post("/api/systems/register", body,
                                         content_type="application/json")
    # then 400 naming the path inside the body, and no system
    assert response.status_code == 400
    assert refused_field(response) == "manifest.model.name"
    assert not AISystem.objects.exists()


def test_a_lone_surrogate_in_json_is_refused_like_a_control_character(api, release_manager):
    response = api(release_manager).post(
        "/api/systems/register", '{"name": "a\\ud800", "manifest": {}}',
        content_type="application/json")
    assert response.status_code == 400
    assert refused_field(response) == "name"


@pytest.mark.parametrize("url", ["/api/systems/register", "/api/releases/open", "/api/signoffs",
                                 "/api/findings", "/api/customers"])
def test_json_nested_a_thousand_deep_is_400_on_every_json_endpoint(api, release_manager, url):
    response = api(release_manager).post(url, DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper" in response.json()["fields"][0]["message"]


def test_deep_json_inside_a_signed_dsse_payload_is_refused_not_500(lab):
    # given a lab signer with a registered key, who signs a payload nested 1,000 deep
    person = signer(lab, "lab_signer")
    envelope = dsse.sign_envelope(DEEP.encode(), PAYLOAD_TYPE, person.key)
    token = factories.token_for(person.user)
    mark = AuditEvent.objects.count()
    # when the envelope is submitted as a sign-off
    response = Client().post("/api/signoffs", json.dumps({"envelope": envelope}),
                             content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    # then it is refused as input, with nothing logged
    assert response.status_code == 400, response.content
    assert "nested deeper" in response.content.decode()
    assert AuditEvent.objects.count() == mark


def test_a_nul_inside_a_signed_dsse_payload_is_refused_not_500(lab):
    person = signer(lab, "lab_signer")
    payload = json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": [
        {"name": "x\u0000", "digest": {"sha256": "0" * 64}}], "predicateType": "p"}).encode()
    envelope = dsse.sign_envelope(payload, PAYLOAD_TYPE, person.key)
    response = Client().post("/api/signoffs", json.dumps({"envelope": envelope}),
                             content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {factories.token_for(person.user)}")
    assert response.status_code == 400, response.content
    assert "U+0000" in response.content.decode()


def _kyc_customer(lab, manager):
    customer_register(organization=lab, external_id="cust-1", display_name="Ada", actor=manager)


def test_a_nul_in_a_signed_kyc_reference_is_400_and_records_nothing(lab, release_manager):
    # given a customer, and a provider's correctly signed result whose reference has a NUL
    _kyc_customer(lab, release_manager)
    body = webhook_body(lab.slug, "cust-1", reference="chk-\u0000-1")
    # when it is delivered
    response = post_webhook(Client(), body)
    # then 400 naming the field; no record
    assert response.status_code == 400
    assert refused_field(response) == "reference"
    assert not KycRecord.objects.exists()


def test_deep_json_in_the_kyc_webhook_is_400_even_sent_as_text(lab, release_manager):
    # the gate checks JSON bodies by content type; the webhook parses whatever it is sent
    # through the same helper, so a text/plain body gets the same bound
    _kyc_customer(lab, release_manager)
    from govflow.rollout.providers.hmac_webhook import sign
    from tests.rollout.support import secret

    body = ('{"organization": ' + DEEP + "}").encode()
    response = Client().post("/api/kyc/webhooks/demo_kyc", data=body, content_type="text/plain",
                             HTTP_X_KYC_TIMESTAMP="1", HTTP_X_KYC_SIGNATURE=sign(secret(), 1, body))
    assert response.status_code in (400, 401)
    response = post_webhook(Client(), body)
    assert response.status_code == 400
    assert "nested deeper" in response.json()["fields"][0]["message"]
    assert not KycRecord.objects.exists()


def test_the_unauthenticated_whistleblower_form_refuses_a_nul():
    # given anyone, without an account
    # when the public form is posted with a NUL in the report
    response = Client().post("/whistleblow/", {"subject": "s", "body": "evidence\x00here",
                                                "concerning": "Lab"})
    # then 400 naming the field; no report is kept
    assert response.status_code == 400
    assert b"body: contains the control character U+0000" in response.content
    assert not WhistleblowerReport.objects.exists()


def test_a_body_over_the_limit_is_413_json_before_it_is_read(api, release_manager, settings):
    # given a JSON body one byte over the default cap
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"name": "' + "x" * 1024 + '"}'
    # when it is posted to an API endpoint
    response = api(release_manager).post("/api/systems/register", body,
                                         content_type="application/json")
    # then 413 in the API's error shape
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = readinto = read


def test_a_100_mib_upload_is_refused_from_its_declared_length_unread(release_manager, lab):
    # given a release and an upload that declares 100 MiB
    release = factories.release(lab, release_manager)
    token = factories.token_for(release_manager)
    client = Client()
    # when it is posted (a body stream that must not be read)
    response = client.generic(
        "POST", f"/api/releases/{release.pk}/evidence", b"",
        content_type="multipart/form-data; boundary=x",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        CONTENT_LENGTH=str(100 * 1024 * 1024), **{"wsgi.input": Unreadable()},
    )
    # then 413 at once, JSON
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


def test_more_than_100_files_is_413_json(api, release_manager, lab):
    release = factories.release(lab, release_manager)
    files = {f"file{n}": SimpleUploadedFile(f"f{n}.txt", b"x") for n in range(101)}
    response = api(release_manager).post(f"/api/releases/{release.pk}/evidence",
                                         {"document_type": "red_team_report", **files},
                                         format="multipart")
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


def test_the_console_envelope_reader_survives_deep_json():
    from govflow.console.signing import read_envelope

    assert read_envelope(DEEP) is None
    envelope = {"payload": base64.b64encode(b"{}").decode(), "payloadType": PAYLOAD_TYPE,
                "signatures": []}
    assert read_envelope(json.dumps({"envelope": envelope})) == envelope


@pytest.mark.parametrize(("raw", "ok"), [
    (b"[" * 64 + b"]" * 64, True),
    (b"[" * 65 + b"]" * 65, False),
    (b'{"a":' * 65 + b"1" + b"}" * 65, False),
    (b"[" * 5000, False),                   # never closed: json.loads would still recurse
    (b"[]" * 10000, True),                  # wide, not deep
    (b'["' + b"[" * 5000 + b'"]', True),     # brackets inside a string are text
    (b'["\\"' + b"[" * 5000 + b'"]', True),  # an escaped quote does not end the string
])
def test_the_depth_bound_is_counted_on_the_raw_bytes(raw, ok):
    if ok:
        check_depth(raw)
    else:
        with pytest.raises(InputRefused):
            check_depth(raw)


def test_tab_and_newline_are_text_and_other_controls_are_not():
    assert parse_json(b'{"a": "x\\ty\\nz\\r"}') == {"a": "x\ty\nz\r"}
    for escaped in ("\\u0000", "\\u001f", "\\u007f", "\\u0085", "\\udfff"):
        with pytest.raises(InputRefused):
            parse_json(f'{{"a": ["ok", "{escaped}"]}}'.encode())


def test_a_form_body_sent_to_the_kyc_webhook_is_refused_not_500():
    # schemathesis found it: the gate parsed the form, and the webhook could not read the
    # raw body after that
    response = Client().post("/api/kyc/webhooks/demo_kyc", {"organization": "0", "level": "0"},
                             HTTP_X_KYC_TIMESTAMP="", HTTP_X_KYC_SIGNATURE="")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
