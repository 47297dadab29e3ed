"""axes's `axes_reset_ip IP…`, audited: see `_axes_override`."""

from govflow.accounts.management.commands._axes_override import AuditedReset


class Command(AuditedReset):
    help = "Unlock the given IP addresses (audited, one event per record)."

    def add_arguments(self, parser):
        parser.add_argument("ip", nargs="+", type=str)
        super().add_arguments(parser)

    def handle(self, *args, **options):
        self.report(sum(self.unlock(options, address=ip) for ip in options["ip"]))
