"""The offline verifier applies the certified-keys rule with the regulator's pinned key:
a certificate counts only if it verifies under a key given with --regulator-key, and an
advance whose certified approvals fall short is refused, naming the event and the rule.

The operator runs the server and holds the log key: it can mint a signer's key, mint a
"regulator" and have her certify it, or make its own gate count whatever it likes. None
of that may verify.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.db import transaction

from govflow.audit.events import EventType
from govflow.audit.export import build_bundle
from govflow.audit.logkey import log_verifier_key
from govflow.audit.services import audit_append
from govflow.keys.models import KeyCertificate
from govflow.releases.services import release_advance
from govflow.trust.intoto import Statement, sign_statement
from govflow.trust.keys import generate_private_key, public_key_to_base64
from govflow.verify.bundle import verify_bundle
from govflow.verify.witnesses import UsageError
from tests import factories
from tests.signoffs.test_certified_keys import expired_signer, minted, revoke

pytestmark = pytest.mark.django_db

ROLES = (("bob", "lab_signer"), ("carol", "lab_signer"), ("dana", "safety_officer"))


def public(private) -> str:
    return public_key_to_base64(private.public_key())


def bundle_of(release) -> dict:
    return json.loads(json.dumps(build_bundle(release=release), default=str))


def verify(release, **trust):
    return verify_bundle(bundle_of(release), log_key=log_verifier_key(), **trust)


def signed_off_and_advanced(release, actor, crew, *, carol=None):
    for name, role in ROLES:
        (carol if name == "carol" and carol is not None else crew[name]).signoff(release, role)
    release_advance(release_id=release.pk, actor=actor)


@pytest.fixture
def lying_gate(monkeypatch):
    """The operator's server counts every approval, certified or not (it runs the code)."""
    monkeypatch.setattr("govflow.signoffs.gate.certified_only",
                        lambda statements, refusal: (list(statements), []))


def test_certified_sign_offs_verify_against_the_pinned_regulator_key(
    certified_release, release_manager, certified_crew, rita
):
    signed_off_and_advanced(certified_release, release_manager, certified_crew)

    bundle = bundle_of(certified_release)
    report = verify_bundle(bundle, log_key=log_verifier_key(), regulator_keys=[public(rita[1])])

    assert report.passed, report.render()
    assert "3 key certificate(s) in the log, 3 signed by a pinned regulator key" in \
        report.render()
    assert "gates re-derived from the log: evidence_document, internal_signoff" in \
        report.render()
    # the bundle holds the certificates it needs, and the regulator's key registration
    assert sum(e["canonical"].count('"type":"key_certificate.issued"')
               for e in bundle["events"]) == 3


def test_without_a_regulator_key_the_verifier_refuses_and_says_what_to_pass(
    certified_release, release_manager, certified_crew
):
    signed_off_and_advanced(certified_release, release_manager, certified_crew)

    report = verify(certified_release)

    assert not report.passed
    assert "requires regulator-certified signer keys" in report.failure
    assert "--regulator-key" in report.failure


def test_a_lab_minted_key_fails_the_advance_offline(
    certified_release, release_manager, certified_crew, rita, lying_gate
):
    signed_off_and_advanced(certified_release, release_manager, certified_crew,
                            carol=minted(certified_crew["carol"]))

    report = verify(certified_release, regulator_keys=[public(rita[1])])

    assert not report.passed
    assert "(release.advanced" in report.failure
    assert "refused by rule signoffs_uncertified" in report.failure
    assert "carol (lab_signer)" in report.failure
    assert "has no regulator key certificate" in report.failure


def test_a_certificate_by_a_regulator_the_operator_minted_does_not_count(
    certified_release, release_manager, certified_crew, rita
):
    # The operator adds a "regulator" to a regulator organization and registers her key:
    # the server takes her certificate of the key it minted for carol (it is a regulator
    # act with a registered key), and the log-signed event verifies under her logged key.
    mallory = factories.keyed_regulator()
    fake = minted(certified_crew["carol"])
    factories.certify_key(fake.user, public(fake.key), "lab_signer", regulator=mallory[0],
                          regulator_key=mallory[1])
    signed_off_and_advanced(certified_release, release_manager, certified_crew, carol=fake)

    report = verify(certified_release, regulator_keys=[public(rita[1])])

    assert not report.passed
    assert "refused by rule signoffs_uncertified" in report.failure
    assert "is not signed by any regulator key given with --regulator-key" in report.failure
    # regulators are one body: a verifier that pins this regulator's key too counts her
    # certificate (which keys are trusted is the verifier's choice, not the log's)
    assert verify(certified_release,
                  regulator_keys=[public(rita[1]), public(mallory[1])]).passed
    # with the log's word for it, it would have passed: that is why the flag is weaker
    weak = verify(certified_release, trust_log_regulator_keys=True)
    assert weak.passed, weak.render()
    assert any("--trust-log-regulator-keys" in w for w in weak.warnings)


def test_an_unpinned_regulator_key_is_not_a_trust_root(certified_release, release_manager,
                                                       certified_crew):
    signed_off_and_advanced(certified_release, release_manager, certified_crew)

    report = verify(certified_release, regulator_keys=[public(generate_private_key())])

    assert not report.passed
    assert "refused by rule signoffs_uncertified" in report.failure


def test_a_forged_certificate_event_with_no_regulator_signature_is_refused(
    certified_release, release_manager, certified_crew, rita
):
    # The operator appends a key-certificate event through the log's own append path (so
    # the log key signs it in the next checkpoint), its envelope signed by a key nobody
    # registered.
    fake = minted(certified_crew["carol"])
    statement = factories.key_certificate_statement(fake.user, public(fake.key), "lab_signer")
    envelope = sign_statement(Statement.from_dict(statement), generate_private_key())
    with transaction.atomic():
        audit_append(event_type=EventType.KEY_CERTIFICATE_ISSUED, actor=rita[0],
                     subject=certified_release, organization_id=certified_release.organization_id,
                     payload={"certificate": 999, "certified_key_id": statement["predicate"][
                         "key_id"], "key_id": envelope["signatures"][0]["keyid"],
                         "nonce": statement["predicate"]["nonce"], "envelope": envelope,
                         "statement": statement})
    signed_off_and_advanced(certified_release, release_manager, certified_crew)

    bundle = json.loads(json.dumps(build_bundle(release=None), default=str))
    report = verify_bundle(bundle, log_key=log_verifier_key(), regulator_keys=[public(rita[1])])

    assert not report.passed
    assert "key_certificate.issued" in report.failure
    assert "registration is not in the bundle" in report.failure


def test_a_revoked_certificate_fails_the_advance_offline(
    certified_release, release_manager, certified_crew, rita, lying_gate
):
    revoke(KeyCertificate.objects.get(user=certified_crew["carol"].user), rita)
    signed_off_and_advanced(certified_release, release_manager, certified_crew)

    report = verify(certified_release, regulator_keys=[public(rita[1])])

    assert not report.passed
    assert "refused by rule signoffs_uncertified" in report.failure
    assert "was revoked before this was signed" in report.failure


def test_an_expired_certificate_fails_the_advance_offline(
    certified_release, release_manager, lab, certified_crew, rita, lying_gate
):
    frank = expired_signer(lab, rita)
    signed_off_and_advanced(certified_release, release_manager, certified_crew, carol=frank)

    report = verify(certified_release, regulator_keys=[public(rita[1])])

    assert not report.passed
    assert "refused by rule signoffs_uncertified" in report.failure
    assert "not when this was signed" in report.failure


def test_a_registration_borrowing_a_certified_key_id_is_refused(
    certified_release, release_manager, certified_crew, rita
):
    # A key event naming carol's certified key id but carrying another public key.
    carol = certified_crew["carol"]
    other = public(generate_private_key())
    certified_id = KeyCertificate.objects.get(user=carol.user).key.key_id
    with transaction.atomic():
        audit_append(event_type=EventType.KEY_REGISTERED, actor=carol.user, subject=carol.user,
                     organization_id=certified_release.organization_id,
                     payload={"key_id": certified_id, "public_key": other,
                              "user_id": carol.user.pk, "name": "borrowed"})
    bundle = json.loads(json.dumps(build_bundle(release=None), default=str))

    report = verify_bundle(bundle, log_key=log_verifier_key(), regulator_keys=[public(rita[1])])

    assert not report.passed
    assert "is not the id (SHA-256) of the key it registers" in report.failure


def test_the_regulator_key_options_are_checked(tmp_path, certified_release, rita):
    with pytest.raises(UsageError, match="--regulator-key"):
        verify(certified_release, regulator_keys=["not a key"])
    with pytest.raises(UsageError, match="exclude each other"):
        verify(certified_release, regulator_keys=[public(rita[1])],
               trust_log_regulator_keys=True)


def test_the_cli_takes_the_regulator_key_from_a_file(tmp_path, certified_release,
                                                     release_manager, certified_crew, rita):
    signed_off_and_advanced(certified_release, release_manager, certified_crew)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle_of(certified_release)))
    key_file = tmp_path / "rita.pub"
    key_file.write_text(public(rita[1]) + "\n")

    def run(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "govflow.verify", str(path),
                               "--log-key", log_verifier_key(), *extra],
                              capture_output=True, text=True, timeout=60)

    assert run("--regulator-key", str(key_file)).returncode == 0
    refused = run()
    assert refused.returncode == 1
    assert "requires regulator-certified signer keys" in refused.stdout
    assert "--regulator-key" in run("--help").stdout


def test_un_revoking_a_certificate_in_the_table_does_not_fool_the_verifier(
    certified_release, release_manager, certified_crew, rita
):
    # The operator, a database superuser, clears the revocation in the table (a cache of
    # the log): its own gate now counts carol's approval, the logged revocation stands.
    certificate = KeyCertificate.objects.get(user=certified_crew["carol"].user)
    revoke(certificate, rita)
    KeyCertificate.objects.filter(pk=certificate.pk).update(revoked_at=None)
    signed_off_and_advanced(certified_release, release_manager, certified_crew)

    report = verify(certified_release, regulator_keys=[public(rita[1])])

    assert not report.passed
    assert "refused by rule signoffs_uncertified" in report.failure
    assert "was revoked before this was signed" in report.failure


def replay(event) -> None:
    """What the operator can do: log a signed event's envelope again, as a new event."""
    from govflow.audit.models import AuditEvent

    with transaction.atomic():
        audit_append(event_type=event.event_type, actor=event.actor, subject=event.actor,
                     organization_id=event.organization_id, release_id=event.release_id,
                     payload=event.payload)
    assert AuditEvent.objects.filter(event_type=event.event_type).count() >= 2


def test_a_sign_off_replayed_after_its_signers_reject_is_refused(
    certified_release, release_manager, certified_crew, rita, lying_gate
):
    from govflow.audit.models import AuditEvent

    for name, role in ROLES:
        certified_crew[name].signoff(certified_release, role)
    approval = AuditEvent.objects.filter(event_type="signoff.recorded",
                                         actor=certified_crew["dana"].user).get()
    certified_crew["dana"].signoff(certified_release, "safety_officer", decision="reject")
    replay(approval)  # her approval again, now "newer" than her reject

    report = verify(certified_release, regulator_keys=[public(rita[1])])

    assert not report.passed
    assert "replays the signed statement of" in report.failure


def test_a_certificate_replayed_after_its_revocation_is_refused(
    certified_release, release_manager, certified_crew, rita
):
    from govflow.audit.models import AuditEvent

    revoke(KeyCertificate.objects.get(user=certified_crew["carol"].user), rita)
    issued = AuditEvent.objects.filter(
        event_type="key_certificate.issued",
        payload__certified_user_id=certified_crew["carol"].user.pk).get()
    replay(issued)
    bundle = json.loads(json.dumps(build_bundle(release=None), default=str))

    report = verify_bundle(bundle, log_key=log_verifier_key(), regulator_keys=[public(rita[1])])

    assert not report.passed
    assert "replays the signed statement of" in report.failure
