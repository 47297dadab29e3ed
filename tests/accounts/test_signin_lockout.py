"""Sign-in throttling and lockout (govflow.accounts.signin, django-axes): the console's
login, the admin's login and the API's token failures lock an account or an address after
GOVFLOW_SIGNIN_FAILURE_LIMIT failures; the right password then does not work either; each
lockout is one audit event; time or an admin unlocks it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from govflow.accounts.services import token_revoke
from govflow.audit.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-1"  # tests.factories.person's


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def signin_events(kind: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=kind).order_by("pk"))


def console_login(client: Client, username: str, password: str, address: str = "198.51.100.1"):
    return client.post("/console/login/", {"username": username, "password": password},
                       REMOTE_ADDR=address)


def test_thirty_wrong_passwords_lock_the_console_account_and_the_right_one_fails(
        release_manager):
    client = Client()
    # when someone tries 30 wrong passwords for one account
    answers = [console_login(client, release_manager.username, f"guess-{n}").status_code
               for n in range(30)]
    # then the first four are the ordinary form again, and from the fifth on: 429
    assert answers[:4] == [200] * 4
    assert set(answers[4:]) == {429}
    # and the right password does not get in while the lockout lasts
    right = console_login(client, release_manager.username, PASSWORD)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    # and the lockout is one audit event, naming the account and the address
    [locked] = signin_events("signin.locked_out")
    assert locked.payload["username"] == release_manager.username
    assert locked.payload["address"] == "198.51.100.1"
    assert locked.payload["failures"] == 5


def test_one_address_trying_many_accounts_is_locked_per_address(lab):
    people = [factories.person(lab, "release_manager") for _ in range(5)]
    client = Client()
    for person in people:
        console_login(client, person.username, "wrong", address="203.0.113.9")
    # then a sixth account, with its right password, from that address: refused
    sixth = factories.person(lab, "release_manager")
    assert console_login(client, sixth.username, PASSWORD, address="203.0.113.9").status_code \
        == 429
    # and from another address it signs in
    other = Client()
    assert console_login(other, sixth.username, PASSWORD, address="192.0.2.55").status_code == 302


def test_the_admin_login_is_locked_out_too(lab):
    admin = factories.person(lab, "release_manager")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = Client()
    answers = [client.post("/admin/login/", {"username": admin.username, "password": "nope"},
                           REMOTE_ADDR="198.51.100.2").status_code for _ in range(6)]
    assert answers[-1] == 429
    right = client.post("/admin/login/", {"username": admin.username, "password": PASSWORD},
                        REMOTE_ADDR="198.51.100.2")
    assert right.status_code == 429


def test_the_lockout_ends_with_its_cool_off(release_manager):
    client = Client()
    for n in range(5):
        console_login(client, release_manager.username, f"guess-{n}")
    assert console_login(client, release_manager.username, PASSWORD).status_code == 429
    # when the cool-off has passed (the failures are dated back past it)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    # then the right password works again
    assert console_login(client, release_manager.username, PASSWORD).status_code == 302


def test_an_admin_unlocks_an_account_and_that_is_logged(release_manager, lab):
    client = Client()
    for n in range(5):
        console_login(client, release_manager.username, f"guess-{n}")
    admin = factories.person(lab, "release_manager")
    admin.is_staff = True
    admin.save()
    # when an admin unlocks the account
    call_command("signin_unlock", username=release_manager.username, by=admin.username)
    # then it signs in at once, and the unlock is logged with who did it
    assert console_login(client, release_manager.username, PASSWORD).status_code == 302
    [unlocked] = signin_events("signin.unlocked")
    assert unlocked.payload["username"] == release_manager.username
    assert unlocked.actor_id == admin.pk


def test_unknown_api_tokens_from_one_address_are_throttled_with_retry_after(
        api, release_manager):
    client = Client()
    answers = [client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer gf_wrong_{n}",
                          REMOTE_ADDR="198.51.100.3") for n in range(7)]
    assert [a.status_code for a in answers[:4]] == [401] * 4
    assert {a.status_code for a in answers[4:]} == {429}
    assert answers[-1].json()["error"] == "throttled"
    assert int(answers[-1]["Retry-After"]) > 0
    assert len(signin_events("signin.locked_out")) == 1
    # and a valid token from that address still works: tokens cannot be guessed
    valid = client.get("/api/me", REMOTE_ADDR="198.51.100.3",
                       HTTP_AUTHORIZATION=f"Bearer {factories.token_for(release_manager)}")
    assert valid.status_code == 200


def test_a_revoked_tokens_failures_count_against_its_owner(release_manager):
    # given a revoked token of the release manager, retried from several addresses
    secret = factories.token_for(release_manager)
    from govflow.accounts.models import ApiToken

    token_revoke(token_id=ApiToken.objects.get(user=release_manager).pk, actor=release_manager)
    answers = [Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {secret}",
                            REMOTE_ADDR=f"192.0.2.{n}").status_code for n in range(6)]
    # then the account is locked although no address reached the limit
    assert answers[-1] == 429
    [locked] = signin_events("signin.locked_out")
    assert locked.payload["username"] == release_manager.username


def test_the_test_clients_login_still_works_without_a_request(release_manager):
    # authenticate() without a request (Client.login, a shell) is not an HTTP sign-in
    assert Client().login(username=release_manager.username, password=PASSWORD)
