"""axes's `axes_reset_username NAME…`, audited: see `_axes_override`."""

from govflow.accounts.management.commands._axes_override import AuditedReset


class Command(AuditedReset):
    help = "Unlock the given accounts (audited, one event per record)."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="+", type=str)
        super().add_arguments(parser)

    def handle(self, *args, **options):
        self.report(sum(self.unlock(options, username=name) for name in options["username"]))
