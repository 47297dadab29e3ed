"""`manage.py signin_unlock --username NAME | --address IP [--by ADMIN]`: lift a sign-in
lockout before its cool-off ends, with one audit event per lifted record."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from govflow.accounts.management.commands._axes_override import staff_actor
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
        lifted = signin_unlock(username=username, address=address, actor=staff_actor(by))
        self.stdout.write(f"unlocked {lifted} lockout record(s)")
