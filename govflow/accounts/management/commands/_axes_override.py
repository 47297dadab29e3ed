"""What axes's own `axes_reset*` commands become in govflow.

Resetting a lockout erases the trace of a guessing attempt, so in govflow it is an admin's
audited act (`govflow.accounts.signin.signin_unlock`, one `signin.unlocked` event per lifted
record). axes ships commands that delete the same rows silently; an operator following
axes's documentation would use them. govflow.accounts is listed before axes in
INSTALLED_APPS, so these modules answer to axes's command names instead: the unlocking
ones with the same arguments, audited; the ones that delete sign-in history, refused.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from govflow.accounts.signin import signin_unlock


def staff_actor(by: str | None):
    """The admin named by ``--by`` (logged as the event's actor), or None."""
    if not by:
        return None
    actor = get_user_model().objects.filter(username=by, is_staff=True).first()
    if actor is None:
        raise CommandError(f"--by {by!r} is not a staff account")
    return actor


class AuditedReset(BaseCommand):
    """An axes reset command, done by `signin_unlock` (audited)."""

    def add_arguments(self, parser):
        parser.add_argument("--by", help="the username of the admin doing it (logged)")

    def unlock(self, options, **which) -> int:
        return signin_unlock(actor=staff_actor(options.get("by")), **which)

    def report(self, count: int) -> None:
        self.stdout.write(f"{count} attempts removed (audited: signin.unlocked)." if count
                          else "No attempts found.")


class RefusedPrune(BaseCommand):
    """An axes command that deletes sign-in history: refused in govflow."""

    name = "this command"

    help = ("Refused in govflow: sign-in history is kept (see docs/security.md, "
            "'Unlocking').")

    def add_arguments(self, parser):
        parser.add_argument("--age", type=int, default=30)

    def handle(self, *args, **options):
        raise CommandError(
            f"{self.name} would delete axes's sign-in history without an audit event; "
            "govflow keeps it. To lift a lockout use `manage.py signin_unlock` "
            "(docs/security.md).")
