"""The offline verifier catches what a database-level attacker could do to the log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from govflow.audit import log
from govflow.audit.dbtriggers import APPEND_ONLY_TABLES, uninstall_sql
from govflow.audit.export import build_bundle
from govflow.audit.logkey import log_verifier_key
from govflow.audit.models import AuditEvent, LogState
from govflow.releases.services import release_advance, release_rollback
from govflow.verify.bundle import verify_bundle
from tests import factories

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]


def as_file(tmp_path: Path, bundle: dict) -> Path:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle, default=str))
    return path


def busy_release(lab, release_manager):
    release = factories.release(lab, release_manager)
    factories.attach(release, release_manager)
    release_advance(release_id=release.pk, actor=release_manager)
    release_rollback(release_id=release.pk, target="internal_evals", reason="finding",
                     actor=release_manager)
    return release


def verify_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "govflow.verify", *args],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )


def test_an_untouched_log_verifies_offline_with_the_cli(tmp_path, lab, release_manager):
    release = busy_release(lab, release_manager)
    saved = log.checkpoint_create()
    (tmp_path / "saved.note").write_text(saved.note)
    factories.attach(release, release_manager, document_type="interpretability_report")

    path = as_file(tmp_path, build_bundle(release=release))
    result = verify_cli(str(path), "--trusted-checkpoint", str(tmp_path / "saved.note"),
                        "--log-key", log_verifier_key())

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"consistent with your saved checkpoint of size {saved.size}" in result.stdout
    assert "VERIFIED" in result.stdout


def test_the_whole_log_verifies_and_the_cli_reports_unreadable_input(tmp_path, lab,
                                                                      release_manager):
    busy_release(lab, release_manager)
    report = verify_bundle(json.loads(json.dumps(build_bundle(release=None), default=str)),
                           log_key=log_verifier_key())
    assert report.passed, report.render()
    assert "recomputed the Merkle tree" in report.render()
    (tmp_path / "broken.json").write_text("{not json")
    assert verify_cli(str(tmp_path / "broken.json")).returncode == 2


def test_a_forged_checkpoint_signature_fails(lab, release_manager):
    release = busy_release(lab, release_manager)
    bundle = json.loads(json.dumps(build_bundle(release=release), default=str))
    note = bundle["checkpoints"][-1]["note"]
    body, _, signature = note.rpartition("— ")
    bundle["checkpoints"][-1]["note"] = body + "— " + signature[:-6] + "AAAAA\n"

    report = verify_bundle(bundle, log_key=log_verifier_key())

    assert not report.passed
    assert "checkpoint signature or format is invalid" in report.failure


def test_a_log_key_other_than_the_pinned_one_fails(lab, release_manager):
    from govflow.trust.keys import generate_private_key
    from govflow.trust.note import make_verifier_key

    release = busy_release(lab, release_manager)
    bundle = json.loads(json.dumps(build_bundle(release=release), default=str))
    other = make_verifier_key(bundle["log"]["origin"], generate_private_key().public_key())

    report = verify_bundle(bundle, log_key=other)

    assert not report.passed


def _drop_log_triggers() -> None:
    # What a database superuser could do. In a test transaction, PostgreSQL rolls
    # the DDL back afterwards.
    with connection.cursor() as cursor:
        for table in APPEND_ONLY_TABLES:
            for statement in uninstall_sql(connection.vendor, table):
                cursor.execute(statement)


@pytest.mark.postgres
@pytest.mark.parametrize("scope", ["release", "all"])
def test_an_event_edited_with_raw_sql_is_named(scope, lab, release_manager):
    release = busy_release(lab, release_manager)
    log.checkpoint_create()
    target = AuditEvent.objects.select_related("leaf").get(
        release_id=release.pk, event_type="release.rolled_back"
    )
    _drop_log_triggers()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET canonical = replace(canonical, 'finding', 'routine') "
            "WHERE id = %s",
            [target.pk],
        )

    bundle = build_bundle(release=release if scope == "release" else None)
    report = verify_bundle(json.loads(json.dumps(bundle, default=str)), log_key=log_verifier_key())

    assert not report.passed
    assert f"first bad event: event #{target.leaf.index} (release.rolled_back" in report.failure
    assert "altered after it was logged" in report.failure


@pytest.mark.postgres
@pytest.mark.parametrize("appended_after", [0, 12])
def test_deleting_the_newest_events_is_caught_against_a_saved_checkpoint(
    appended_after, lab, release_manager
):
    busy_release(lab, release_manager)
    kept = AuditEvent.objects.count()
    factories.release(lab, release_manager)  # the newest events, which will be deleted
    saved = log.checkpoint_create()  # the regulator keeps this one
    # The attacker deletes the newest events and every trace of them in the tree, then
    # the server goes on logging (and signing checkpoints) over the shortened history.
    _drop_log_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_checkpoint")
        cursor.execute("DELETE FROM audit_lognode")
        cursor.execute("DELETE FROM audit_logleaf")
        cursor.execute("DELETE FROM audit_releasehead")  # the per-release chains too
        cursor.execute(
            "DELETE FROM audit_auditevent WHERE id >= (SELECT min(id) FROM audit_auditevent) + %s",
            [kept],
        )
    LogState.objects.filter(pk=1).update(size=0)
    org = factories.organization()
    for _ in range(appended_after):
        factories.person(org, "release_manager")

    bundle = json.loads(json.dumps(build_bundle(release=None), default=str))
    on_its_own = verify_bundle(bundle, log_key=log_verifier_key())
    against_saved = verify_bundle(bundle, trusted_checkpoints=[saved.note],
                                  log_key=log_verifier_key())

    # The rewritten log is self-consistent; only the checkpoint kept outside shows it.
    assert on_its_own.passed, on_its_own.render()
    assert not against_saved.passed
    if bundle["tree_size"] < saved.size:
        assert "events were removed" in against_saved.failure
    else:
        assert "different root" in against_saved.failure


def test_the_bundles_own_log_key_is_refused_unless_trusted_explicitly(tmp_path, lab,
                                                                      release_manager):
    # given: a bundle whose log was re-signed from scratch under a key the lab just made
    from govflow.trust.keys import generate_private_key
    from govflow.trust.note import Checkpoint as Body
    from govflow.trust.note import make_verifier_key, sign_checkpoint

    release = busy_release(lab, release_manager)
    bundle = json.loads(json.dumps(build_bundle(release=release), default=str))
    origin, new_key = bundle["log"]["origin"], generate_private_key()
    for entry in bundle["checkpoints"]:
        body = Body.parse(entry["note"].rpartition("\n\n")[0] + "\n")
        entry["note"] = sign_checkpoint(body, origin, new_key)
    bundle["log"]["verifier_key"] = make_verifier_key(origin, new_key.public_key())
    path = as_file(tmp_path, bundle)
    # when
    unpinned = verify_cli(str(path))
    trusting = verify_cli(str(path), "--trust-bundle-key")
    pinned = verify_cli(str(path), "--log-key", log_verifier_key())
    # then: only the explicit --trust-bundle-key accepts it, with a warning
    assert unpinned.returncode == 1
    assert "no pinned log key" in unpinned.stdout
    assert trusting.returncode == 0, trusting.stdout
    assert "warn  log key taken from the bundle itself" in trusting.stdout
    assert pinned.returncode == 1
    assert "checkpoint signature or format is invalid" in pinned.stdout
    assert "--trust-bundle-key" in verify_cli("--help").stdout
