"""axes's own reset commands, as an operator following axes's documentation would type
them: in govflow each unlocking one is the audited `signin_unlock` (one `signin.unlocked`
event per lifted record), and the ones that delete sign-in history are refused."""

from __future__ import annotations

from pathlib import Path

import axes
import pytest
from axes.models import AccessAttempt, AccessLog
from django.core.management import CommandError, call_command, find_commands, get_commands
from django.test import Client

from govflow.audit.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-1"


def lock(username: str, address: str) -> None:
    client = Client()
    for n in range(5):
        client.post("/console/login/", {"username": username, "password": f"guess-{n}"},
                    REMOTE_ADDR=address)
    assert AccessAttempt.objects.filter(username=username, ip_address=address).exists()


def signs_in(username: str, address: str) -> bool:
    response = Client().post("/console/login/", {"username": username, "password": PASSWORD},
                             REMOTE_ADDR=address)
    return response.status_code == 302


def unlocked() -> list[tuple[str, str, int | None]]:
    return [(e.payload["username"], e.payload["address"], e.actor_id)
            for e in AuditEvent.objects.filter(event_type="signin.unlocked").order_by("pk")]


@pytest.fixture
def admin(lab):
    person = factories.person(lab, "release_manager")
    person.is_staff = True
    person.save()
    return person


def test_every_axes_reset_command_is_govflows():
    # axes's own command modules, as shipped (a new one in an upgrade fails this test)
    shipped = [name for name in find_commands(str(Path(axes.__file__).parent / "management"))
               if name.startswith("axes_reset")]
    commands = get_commands()

    assert sorted(shipped) == ["axes_reset", "axes_reset_failure_logs", "axes_reset_ip",
                               "axes_reset_ip_username", "axes_reset_logs",
                               "axes_reset_username"]
    assert {name: commands[name] for name in shipped} == dict.fromkeys(shipped,
                                                                       "govflow.accounts")


def test_axes_reset_username_is_an_audited_unlock(release_manager, admin):
    lock(release_manager.username, "198.51.100.20")

    call_command("axes_reset_username", release_manager.username, "--by", admin.username)

    assert signs_in(release_manager.username, "198.51.100.20")
    assert unlocked() == [(release_manager.username, "198.51.100.20", admin.pk)]


def test_axes_reset_ip_and_ip_username_are_audited_unlocks(lab):
    first, second = (factories.person(lab, "release_manager") for _ in range(2))
    lock(first.username, "198.51.100.21")
    lock(second.username, "198.51.100.22")

    call_command("axes_reset_ip", "198.51.100.21")
    call_command("axes_reset_ip_username", "198.51.100.22", second.username)

    assert signs_in(first.username, "198.51.100.21")
    assert signs_in(second.username, "198.51.100.22")
    # no --by: the operator at the shell is not named, but the unlock is in the log
    assert unlocked() == [(first.username, "198.51.100.21", None),
                          (second.username, "198.51.100.22", None)]


def test_axes_reset_unlocks_everything_one_event_per_record(lab, admin):
    people = [factories.person(lab, "release_manager") for _ in range(3)]
    for n, person in enumerate(people):
        lock(person.username, f"198.51.100.{30 + n}")

    call_command("axes_reset", "--by", admin.username)

    assert not AccessAttempt.objects.exists()
    assert sorted(unlocked()) == sorted((p.username, f"198.51.100.{30 + n}", admin.pk)
                                        for n, p in enumerate(people))


def test_a_reset_by_someone_not_staff_is_refused_and_unlocks_nothing(release_manager):
    lock(release_manager.username, "198.51.100.40")

    with pytest.raises(CommandError, match="not a staff account"):
        call_command("axes_reset_username", release_manager.username, "--by",
                     release_manager.username)

    assert AccessAttempt.objects.count() == 1
    assert unlocked() == []


@pytest.mark.parametrize("command", ["axes_reset_logs", "axes_reset_failure_logs"])
def test_deleting_sign_in_history_through_axes_is_refused(release_manager, command):
    assert signs_in(release_manager.username, "198.51.100.50")
    kept = AccessLog.objects.count()
    assert kept >= 1

    with pytest.raises(CommandError, match="signin_unlock"):
        call_command(command, "--age", "0")

    assert AccessLog.objects.count() == kept
