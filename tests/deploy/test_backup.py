"""A live system backed up with `pg_dump` and restored into a fresh database: the offline
verifier accepts the restored log, consistent with a checkpoint saved before the dump,
and the append-only triggers guard it again (deploy/README.md, *Backups and restore*)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from govflow.audit import log
from govflow.audit.dbtriggers import APPEND_ONLY_TABLES
from govflow.audit.models import AuditEvent
from govflow.releases.services import release_advance, release_rollback
from tests import factories
from tests.signoffs.support import SIGNOFF_POLICY, signer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not shutil.which("pg_dump") or not shutil.which("pg_restore"),
                       reason="needs pg_dump and pg_restore on PATH"),
]
REPO = Path(__file__).resolve().parents[2]


def pg_env() -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(PGHOST=db["HOST"] or "127.0.0.1", PGPORT=str(db["PORT"] or 5432),
               PGUSER=db["USER"] or "postgres")
    if db["PASSWORD"]:
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def database_url(name: str) -> str:
    env = pg_env()
    password = f":{quote(env['PGPASSWORD'], safe='')}" if "PGPASSWORD" in env else ""
    return f"postgres://{quote(env['PGUSER'], safe='')}{password}@{env['PGHOST']}:" \
           f"{env['PGPORT']}/{name}"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(list(args), cwd=REPO, env=env or pg_env(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result


def build_history():
    """Releases that advanced (one on three people's signed sign-offs) and rolled back."""
    lab = factories.organization(kind="lab")
    alice = factories.person(lab, "release_manager")
    signed = factories.release(lab, alice, policy_text=SIGNOFF_POLICY)
    factories.attach(signed, alice)
    signer(lab, "lab_signer").signoff(signed, "lab_signer")
    signer(lab, "lab_signer").signoff(signed, "lab_signer")
    signer(lab, "safety_officer").signoff(signed, "safety_officer")
    release_advance(release_id=signed.pk, actor=alice)
    other = factories.release(lab, alice)
    factories.attach(other, alice)
    release_advance(release_id=other.pk, actor=alice)
    release_rollback(release_id=other.pk, target="internal_evals", reason="a finding",
                     actor=alice)
    return lab, alice, other


@pytest.fixture
def restored_name():
    name = f"{connection.settings_dict['NAME']}_restored"
    yield name
    subprocess.run(["dropdb", "--if-exists", "--force", name], env=pg_env(),
                   capture_output=True, timeout=60)


def test_a_dump_of_a_live_system_restores_and_verifies_against_a_saved_checkpoint(
    live_db, tmp_path, restored_name
):
    # given a running system with history and a checkpoint a regulator saved
    lab, alice, other = build_history()
    saved = log.checkpoint_create()
    (tmp_path / "saved.note").write_text(saved.note)
    # and more history after it, some of it not yet checkpointed when the dump is taken
    factories.attach(other, alice, document_type="interpretability_report", body=b"i")
    log.checkpoint_create()
    factories.release(lab, alice)
    events_at_dump = AuditEvent.objects.count()

    # when the live database is dumped and restored into a fresh one
    dump = tmp_path / "govflow.dump"
    run("pg_dump", "-Fc", "-d", connection.settings_dict["NAME"], "-f", str(dump))
    run("createdb", restored_name)
    run("pg_restore", "--no-owner", "-d", restored_name, str(dump))

    # and a regulator's whole-log bundle is exported from the restored database
    bundle_path = tmp_path / "restored.bundle.json"
    script = (
        "import json, pathlib; from govflow.audit.export import build_bundle; "
        f"pathlib.Path({str(bundle_path)!r}).write_text("
        "json.dumps(build_bundle(release=None), default=str))"
    )
    env = pg_env()
    env.update(DATABASE_URL=database_url(restored_name),
               GOVFLOW_LOG_SIGNING_KEY_FILE=str(settings.GOVFLOW_LOG_SIGNING_KEY_FILE),
               GOVFLOW_LOG_ORIGIN=settings.GOVFLOW_LOG_ORIGIN)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run(sys.executable, "manage.py", "shell", "-c", script, env=env)

    # then the offline verifier accepts it, consistent with the checkpoint saved before
    bundle = json.loads(bundle_path.read_text())
    verified = run(sys.executable, "-m", "govflow.verify", str(bundle_path),
                   "--trusted-checkpoint", str(tmp_path / "saved.note"),
                   "--log-key", bundle["log"]["verifier_key"])
    assert "VERIFIED" in verified.stdout
    assert f"consistent with your saved checkpoint of size {saved.size}" in verified.stdout
    # and nothing was lost: every event logged before the dump is in the restored tree
    # (plus the release-heads event the export's own checkpoint ends with)
    assert bundle["tree_size"] == events_at_dump + 1
    assert len(bundle["events"]) == events_at_dump + 1

    # and the append-only triggers survived the restore and still refuse a rewrite
    with psycopg.connect(database_url(restored_name)) as restored:
        triggers = {row[0] for row in restored.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled = 'O'"
        )}
        for table in APPEND_ONLY_TABLES:
            assert {f"{table}_append_only", f"{table}_no_truncate"} <= triggers, table
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            restored.execute("UPDATE audit_auditevent SET canonical = '{}'")
