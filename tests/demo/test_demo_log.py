"""The demo world against its log: the governed tables agree with it (`audit reconcile`
finds no drift) and the offline verifier replays every release without a refusal."""

from __future__ import annotations

import json

import pytest

from govflow.audit import log
from govflow.audit.export import build_bundle
from govflow.audit.logkey import log_verifier_key
from govflow.audit.reconcile import audit_reconcile
from govflow.demo.build import demo_public_key
from govflow.releases.models import Release
from govflow.verify.bundle import verify_bundle

pytestmark = pytest.mark.django_db


def test_the_demo_world_agrees_with_its_log(demo):
    # The demo goes through every area's services: sign-offs, findings, holds, cohorts.
    log.checkpoint_create()

    assert audit_reconcile() == []
    # and the offline verifier replays every one of its releases without a refusal
    for release in Release.objects.order_by("pk"):
        bundle = json.loads(json.dumps(build_bundle(release=release), default=str))
        # (its policy counts only regulator-certified signer keys: pin rita's)
        report = verify_bundle(bundle, log_key=log_verifier_key(),
                               regulator_keys=[demo_public_key("rita")])
        assert report.passed, report.render()
