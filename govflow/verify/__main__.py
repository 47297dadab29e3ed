"""`python -m govflow.verify BUNDLE [--trusted-checkpoint FILE] [--log-key KEY]`

Checks a bundle exported from govflow (GET /api/oversight/export) with no database and
no server: every checkpoint signature, the consistency of successive checkpoints (and
with a checkpoint you saved earlier), every event's leaf and inclusion, that a
per-release bundle holds every event of its release (release-heads commitments), every
signed envelope, and a replay of every release through its policy's state machine with
each gate re-derived from logged facts where the verifier can (docs/log-replay.md).
Exit status 0 when everything verifies, 1 on the first failure
(named in the report), 2 when the bundle cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from govflow.verify.bundle import verify_bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m govflow.verify",
        description="Verify a govflow audit bundle offline.",
    )
    parser.add_argument("bundle", type=Path, help="bundle file from /api/oversight/export")
    parser.add_argument(
        "--trusted-checkpoint", type=Path, action="append", default=[],
        help="a signed checkpoint note you saved earlier (repeatable); the bundle's log must "
        "be consistent with it",
    )
    parser.add_argument(
        "--log-key",
        help="the log's verifier key (name+keyid+base64) you trust; without it the key in "
        "the bundle is used and a warning says so",
    )
    args = parser.parse_args(argv)
    try:
        bundle = json.loads(args.bundle.read_text(encoding="utf-8"))
        trusted = [p.read_text(encoding="utf-8") for p in args.trusted_checkpoint]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"cannot read input: {exc}", file=sys.stderr)
        return 2
    report = verify_bundle(bundle, log_key=args.log_key, trusted_checkpoints=trusted)
    print(f"govflow bundle {args.bundle}")
    print(report.render())
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
