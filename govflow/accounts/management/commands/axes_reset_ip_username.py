"""axes's `axes_reset_ip_username IP NAME`, audited: see `_axes_override`."""

from govflow.accounts.management.commands._axes_override import AuditedReset


class Command(AuditedReset):
    help = "Unlock one account at one IP address (audited, one event per record)."

    def add_arguments(self, parser):
        parser.add_argument("ip", type=str)
        parser.add_argument("username", type=str)
        super().add_arguments(parser)

    def handle(self, *args, **options):
        self.report(self.unlock(options, address=options["ip"], username=options["username"]))
