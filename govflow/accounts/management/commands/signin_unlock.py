"""`manage.py signin_unlock --username NAME | --address IP [--by ADMIN]`: lift a sign-in
lockout before its cool-off ends, with one audit event per lifted record."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from govflow.accounts.signin import signin_unlock


class Command(BaseCommand):
    help = "Unlock an account or an address locked out after failed sign-ins (audited)."

    def add_arguments(self, parser):
        parser.add_argument("--username", help="the account to unlock")
        parser.add_argument("--address", help="the IP address to unlock")
        parser.add_argument("--by", help="the username of the admin doing it (logged)")

    def handle(self, *args, username=None, address=None, by=None, **options):
        if not username and not address:
            raise CommandError("give --username, --address, or both")
        actor = None
        if by:
            actor = get_user_model().objects.filter(username=by, is_staff=True).first()
            if actor is None:
                raise CommandError(f"--by {by!r} is not a staff account")
        lifted = signin_unlock(username=username, address=address, actor=actor)
        self.stdout.write(f"unlocked {lifted} lockout record(s)")
