"""`python -m govflow.verify BUNDLE --log-key KEY [--witness VKEY ... --quorum K]
[--regulator-key PUB ...] [--trusted-checkpoint FILE]`

Checks a bundle exported from govflow (GET /api/oversight/export) with no database and
no server: every checkpoint signature, the consistency of successive checkpoints (and
with a checkpoint you saved earlier), every event's leaf and inclusion, that a
per-release bundle holds every event of its release (release-heads commitments), every
signed envelope, and a replay of every release through its policy's state machine with
each gate re-derived from logged facts where the verifier can (docs/log-replay.md).
Exit status 0 when everything verifies, 1 on the first failure
(named in the report), 2 when the bundle cannot be read or the options are inconsistent.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from govflow.verify.bundle import verify_bundle
from govflow.verify.witnesses import UsageError

TRUST_ROOTS = """\
trust roots (why --log-key is required):
  The bundle is built by the server, which the lab runs; the lab also holds the log's
  signing key. A bundle could name any key, so a log re-signed from scratch under a new
  key would verify against "its own" key. Pin the key you got independently (the
  regulator records it when the log is registered; GET /api/log/key at that time) with
  --log-key, or pass --trust-bundle-key to accept the bundle's key knowingly.

  A lab that keeps its key can still rewrite history and re-sign it. Witnesses stop that:
  each cosigns a checkpoint only if it extends the one it cosigned before (C2SP
  tlog-witness). With --witness VKEY (repeatable) and --quorum K, the latest checkpoint
  must carry K valid cosignatures from those witnesses, or verification fails.

  The lab's server also registers every signer's key, so it can mint a key "for" a
  signer. Where the policy requires certified keys (signoffs, certified_keys: true), an
  approval counts only under a key a regulator certified, and a certificate counts only
  if it verifies under a key given with --regulator-key (repeatable; the regulator's
  Ed25519 public key, base64 or PEM, or a file holding it). --trust-log-regulator-keys
  takes the log's own regulator keys instead, which the operator could have minted too.

example:
  python -m govflow.verify log.bundle.json --log-key "govflow.demo/audit-log+1a2b3c4d+AV…" \\
      --witness "regulator.example/witness+5e6f7a8b+BB…" --quorum 1 \\
      --regulator-key rita.pub --trusted-checkpoint saved.note
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m govflow.verify",
        description="Verify a govflow audit bundle offline.",
        epilog=TRUST_ROOTS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("bundle", type=Path, help="bundle file from /api/oversight/export")
    parser.add_argument(
        "--trusted-checkpoint", type=Path, action="append", default=[],
        help="a signed checkpoint note you saved earlier (repeatable); the bundle's log must "
        "be consistent with it",
    )
    parser.add_argument(
        "--log-key",
        help="the log's verifier key (name+keyid+base64) you obtained independently of the "
        "bundle; required unless --trust-bundle-key",
    )
    parser.add_argument(
        "--trust-bundle-key", action="store_true",
        help="use the log key the bundle names (it proves nothing against the log operator)",
    )
    parser.add_argument(
        "--witness", action="append", default=[], metavar="VKEY",
        help="a witness's cosignature/v1 verifier key you trust (repeatable)",
    )
    parser.add_argument(
        "--quorum", type=int, metavar="K",
        help="how many of the --witness keys must have cosigned the latest checkpoint "
        "(default: all of them)",
    )
    parser.add_argument(
        "--regulator-key", action="append", default=[], metavar="PUB",
        help="a regulator's public key (base64 or PEM, or a file) under which key "
        "certificates count (repeatable)",
    )
    parser.add_argument(
        "--trust-log-regulator-keys", action="store_true",
        help="count key certificates signed by keys the log itself names (proves nothing "
        "against the log operator)",
    )
    args = parser.parse_args(argv)
    try:
        bundle = json.loads(args.bundle.read_text(encoding="utf-8"))
        trusted = [p.read_text(encoding="utf-8") for p in args.trusted_checkpoint]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"cannot read input: {exc}", file=sys.stderr)
        return 2
    try:
        report = verify_bundle(
            bundle, log_key=args.log_key, trusted_checkpoints=trusted,
            trust_bundle_key=args.trust_bundle_key, witnesses=args.witness, quorum=args.quorum,
            regulator_keys=args.regulator_key,
            trust_log_regulator_keys=args.trust_log_regulator_keys,
        )
    except UsageError as exc:
        print(f"bad usage: {exc}", file=sys.stderr)
        return 2
    print(f"govflow bundle {args.bundle}")
    print(report.render())
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
