"""`manage.py audit reconcile | alarms | quarantine`: the operator's audit-log tools.

reconcile [--alert] [--json]: compare the governed tables with the log. Exit status 0
when every table agrees with the replayed log, 1 when there is drift (each place
printed), so a cron job or a deployment check can act on it. `--alert` also records the
run for the console and notifies every regulator, as the beat task does.

alarms [--json]: every sequencing alarm, the row it refused (stored and computed leaf
hash, its bytes) and whether sequencing is stopped at it. Exit status 1 while one is open.

quarantine ALARM --reason TEXT [--by USERNAME]: set the refused row aside so that
sequencing resumes; the quarantine is itself logged (govflow.audit.quarantine).
"""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from govflow.audit.models import SequencingAlarm
from govflow.audit.quarantine import alarm_describe, alarm_quarantine
from govflow.audit.reconcile import audit_reconcile, audit_reconcile_and_alert
from govflow.core.errors import DomainError


class Command(BaseCommand):
    help = "Audit-log tools: reconcile tables with the log; show and quarantine alarms."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        reconcile = sub.add_parser(
            "reconcile", help="Replay the log; report every governed table that disagrees.")
        reconcile.add_argument("--alert", action="store_true",
                               help="record the run for the console and notify every "
                                    "regulator when there is drift")
        reconcile.add_argument("--json", action="store_true", help="print a JSON list")
        alarms = sub.add_parser("alarms", help="Show sequencing alarms and the rows refused.")
        alarms.add_argument("--json", action="store_true")
        quarantine = sub.add_parser(
            "quarantine", help="Set a refused row aside (logged) so that sequencing resumes.")
        quarantine.add_argument("alarm", type=int)
        quarantine.add_argument("--reason", required=True,
                                help="what you found; it goes into the log")
        quarantine.add_argument("--by", metavar="USERNAME",
                                help="the person doing it (recorded as the event's actor)")

    def handle(self, *args, action: str, **options):
        getattr(self, f"_{action}")(**options)

    def _reconcile(self, **options):
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

    def _alarms(self, **options):
        described = [alarm_describe(a) for a in SequencingAlarm.objects.order_by("event_id")]
        if options["json"]:
            self.stdout.write(json.dumps({"alarms": described}, indent=2))
        elif not described:
            self.stdout.write("no sequencing alarm")
        for alarm in described if not options["json"] else []:
            row = alarm["event"]
            self.stdout.write(
                f"ALARM {alarm['alarm']} raised {alarm['raised_at']}: {alarm['status']}\n"
                f"  reason:   {alarm['reason']}\n"
                f"  event:    #{row['id']} {row['uuid']} {row['columns']}\n"
                f"  stored leaf hash:   {row['stored_leaf_hash']}\n"
                f"  computed leaf hash: {row['computed_leaf_hash']}\n"
                f"  bytes:    {row['canonical'][:400]}\n"
                + (f"  waiting behind it: {alarm['events_waiting_behind_it']} event(s)\n"
                   if alarm["quarantined_by_event"] is None
                   else f"  quarantined by event #{alarm['quarantined_by_event']}\n"))
        if any(a["quarantined_by_event"] is None for a in described):
            raise SystemExit(1)

    def _quarantine(self, **options):
        actor = None
        if options["by"]:
            actor = get_user_model().objects.filter(username=options["by"]).first()
            if actor is None:
                raise CommandError(f"no user {options['by']!r}")
        try:
            quarantine = alarm_quarantine(alarm_id=options["alarm"], reason=options["reason"],
                                          actor=actor)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"event #{quarantine.event_id} quarantined by event #{quarantine.record_id}; "
            "the next checkpoint resumes sequencing and includes the record")
