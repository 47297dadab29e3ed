"""`manage.py log_verifier_key`: print the log's verifier key (for a witness's --log and
the verifier's --log-key), the same string GET /api/log/key returns."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from govflow.audit.logkey import log_verifier_key


class Command(BaseCommand):
    help = ("Print the audit log's signed-note verifier key (name+keyid+base64), to pass to "
            "`python -m govflow.witness serve --log` and `python -m govflow.verify --log-key`.")

    def handle(self, *args, **options):
        self.stdout.write(log_verifier_key())
