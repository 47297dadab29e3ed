"""`python -m govflow.witness` — run a C2SP tlog-witness for a govflow audit log."""

from __future__ import annotations

import sys

from govflow.witness.cli import main

if __name__ == "__main__":
    sys.exit(main())
