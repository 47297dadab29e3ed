"""The demo shows sign-offs: bob, carol and dana hold registered keys kept in
var/demo-keys/, and the release in audit got there through their signed approvals."""

from __future__ import annotations

import stat

import pytest

from govflow.keys.models import SigningKey
from govflow.releases.models import Release
from govflow.signoffs.models import SignOff
from govflow.trust.keys import load_private_key, public_key_id

pytestmark = pytest.mark.django_db


def test_the_release_in_audit_was_signed_off_by_two_signers_and_a_safety_officer(demo):
    in_audit = Release.objects.get(title="Frontier-7 v1")
    rows = SignOff.objects.filter(release=in_audit).order_by("id")
    assert [(s.signer.username, s.role) for s in rows] == [
        ("bob", "lab_signer"), ("carol", "lab_signer"), ("dana", "safety_officer")
    ]
    advance = in_audit.transitions.get(kind="advance")
    gate = next(g for g in advance.gate_report["gates"] if g["kind"] == "signoffs")
    assert gate["met"] is True


def test_the_demo_keys_on_disk_are_the_registered_ones(demo):
    for name in ("bob", "carol", "dana"):
        path = demo.var_dir / "demo-keys" / f"{name}.pem"
        key_id = public_key_id(load_private_key(path).public_key())
        assert SigningKey.objects.get(key_id=key_id).user.username == name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_running_the_demo_again_adds_no_keys_or_signoffs(demo):
    before = (SigningKey.objects.count(), SignOff.objects.count())

    demo.again()

    assert (SigningKey.objects.count(), SignOff.objects.count()) == before
    # the signers' keys (the demo's audit adds rita's, erin's and frank's)
    signers = SigningKey.objects.filter(user__username__in=["bob", "carol", "dana"])
    assert (signers.count(), before[1]) == (3, 3)
    internal = Release.objects.get(title="Frontier-7 v1.1")
    assert not SignOff.objects.filter(release=internal).exists()  # left for the README
