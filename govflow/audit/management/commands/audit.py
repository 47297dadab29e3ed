"""`manage.py audit reconcile [--alert] [--json]`: compare the governed tables with the log.

Exit status 0 when every table agrees with the replayed log, 1 when there is drift
(each place printed), so a cron job or a deployment check can act on it. `--alert`
also notifies every regulator, as the beat task does.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from govflow.audit.reconcile import audit_reconcile, audit_reconcile_and_alert


class Command(BaseCommand):
    help = "Audit-log tools. reconcile: replay the log and report where tables drifted."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        reconcile = sub.add_parser(
            "reconcile", help="Replay the log; report every governed table that disagrees.")
        reconcile.add_argument("--alert", action="store_true",
                               help="notify every regulator when there is drift")
        reconcile.add_argument("--json", action="store_true", help="print a JSON list")

    def handle(self, *args, action: str, **options):
        drift = audit_reconcile_and_alert() if options["alert"] else audit_reconcile()
        if options["json"]:
            self.stdout.write(json.dumps({"drift": drift}, indent=2))
        elif drift:
            for line in drift:
                self.stdout.write(f"DRIFT {line}")
        else:
            self.stdout.write("the governed tables agree with the log")
        if drift:
            raise SystemExit(1)
