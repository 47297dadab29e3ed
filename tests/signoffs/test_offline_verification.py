"""Sign-offs as the offline verifier sees them: the logged key and sign-off events are
enough to re-check that the advance they allowed was allowed."""

from __future__ import annotations

import json

import pytest

from govflow.audit.export import build_bundle
from govflow.audit.logkey import log_verifier_key
from govflow.verify.bundle import verify_bundle

pytestmark = pytest.mark.django_db


def advance(api, user, release):
    release.refresh_from_db()
    return api(user).post(f"/api/releases/{release.pk}/advance", {}, format="json",
                          HTTP_IF_MATCH=release.etag)


def test_a_signed_off_advance_verifies_offline(api, release_manager, release, crew):
    for name, role in (("bob", "lab_signer"), ("carol", "lab_signer"), ("dana", "safety_officer")):
        crew[name].signoff(release, role)
    assert advance(api, release_manager, release).status_code == 200

    bundle = json.loads(json.dumps(build_bundle(release=release), default=str))
    report = verify_bundle(bundle, log_key=log_verifier_key())

    assert report.passed, report.render()
    assert "1 stage advance(s) re-checked" in report.render()
    assert "3 sign-off envelope(s) and 0 other signed statement(s) verified" in report.render()
    assert len(bundle["envelopes"]) == 3
    assert {k["user"] for k in bundle["keys"]} == {"bob", "carol", "dana"}
