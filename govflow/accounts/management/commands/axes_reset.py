"""axes's `axes_reset` (every lockout), audited: see `_axes_override`."""

from govflow.accounts.management.commands._axes_override import AuditedReset


class Command(AuditedReset):
    help = "Unlock every locked-out account and address (audited, one event per record)."

    def handle(self, *args, **options):
        self.report(self.unlock(options, everything=True))
