"""`manage.py demo`: build (or top up) the demo world and print how to use it."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from govflow.demo.build import DEMO_PASSWORD, build_demo


class Command(BaseCommand):
    help = "Create the demo organizations, people, tokens, system and releases (idempotent)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("the demo uses public passwords and tokens; not in production")
        world = build_demo()
        out = self.stdout.write
        out("\ngovflow demo is ready.\n")
        out("API tokens (send as 'Authorization: Bearer <token>'):")
        for username, token in world.tokens.items():
            out(f"  {username:<6} {token}")
        out(f"\nAdmin: http://127.0.0.1:8000/admin/  (admin / {DEMO_PASSWORD}, "
            f"or alice / {DEMO_PASSWORD})")
        out("API docs: http://127.0.0.1:8000/api/docs/\n")
        internal = world.releases["internal"]
        audited = world.releases["in_audit"]
        out(f"Release {audited.pk} '{audited.title}' is at {audited.stage}.")
        for line in world.notes:
            out(line)
        out(f"Release {internal.pk} '{internal.title}' is at {internal.stage}. Try:")
        token = world.tokens["alice"]
        base = "http://127.0.0.1:8000/api"
        out(f"  curl -s -H 'Authorization: Bearer {token}' {base}/releases/{internal.pk}/gates")
        out("  (then follow the README: upload a red-team report and advance)\n")
