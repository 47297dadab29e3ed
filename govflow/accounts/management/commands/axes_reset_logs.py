"""axes's `axes_reset_logs`, refused: see `_axes_override`."""

from govflow.accounts.management.commands._axes_override import RefusedPrune


class Command(RefusedPrune):
    name = "axes_reset_logs"
