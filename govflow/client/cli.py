"""Argument parsing and error reporting for `python -m govflow.client`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from govflow.client import auditor, keys, receipts, regulator, signoffs, tokens
from govflow.client.remote import DEFAULT_URL, Api, ApiError, ClientError

# One module per area; each exposes register(subparsers, server_options_parser).
COMMAND_MODULES = [signoffs, keys, auditor, regulator, tokens, receipts]

EPILOG = f"""\
environment:
  GOVFLOW_URL    server base URL (default {DEFAULT_URL})
  GOVFLOW_TOKEN  your API token (Authorization: Bearer …)
  GOVFLOW_RECEIPTS_DIR  where receipts of your recorded acts are kept
                 (default ~/.local/share/govflow/receipts)

check that the log still holds every act you recorded:
  python -m govflow.client receipts verify --log-key "<pinned log key>" \
      --witness "<witness vkey>" --quorum 1

a two-person sign-off, as one signer:
  python -m govflow.client keygen --out key.pem
  python -m govflow.client register-key --key key.pem --name laptop
  python -m govflow.client signoff --release 2 --role lab_signer --key key.pem

or step by step:
  python -m govflow.client payload --release 2 --role lab_signer --out statement.json
  python -m govflow.client sign --key key.pem --in statement.json --out envelope.json
  python -m govflow.client submit --envelope envelope.json

a regulator certifies a signer's key (the id the signer gave her, in person):
  python -m govflow.client key-certify --user bob --role lab_signer \
      --key-id <sha256 of bob's public key> --key rita.pem

every key the log binds to you, flagging any this client does not hold:
  python -m govflow.client keys audit --key key.pem --log-key "<pinned log key>"

your API tokens (a leaked one: revoke it, and what was made with it goes too):
  python -m govflow.client tokens
  python -m govflow.client token-create --name gateway --ttl-days 30
  python -m govflow.client token-revoke --id 7

exit status: 0 done, 1 refused or failed (the reason is printed), 2 bad usage
"""


def build_parser() -> argparse.ArgumentParser:
    server = argparse.ArgumentParser(add_help=False)
    group = server.add_argument_group("server")
    group.add_argument("--url", default=os.environ.get("GOVFLOW_URL", DEFAULT_URL),
                       help="server base URL (env GOVFLOW_URL; default %(default)s)")
    group.add_argument("--token", default=os.environ.get("GOVFLOW_TOKEN"),
                       help="API token (env GOVFLOW_TOKEN)")
    group.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    group.add_argument("--receipts-dir", type=Path, default=None,
                       help="where receipts of recorded acts are kept (env "
                       "GOVFLOW_RECEIPTS_DIR; default ~/.local/share/govflow/receipts)")
    parser = argparse.ArgumentParser(
        prog="python -m govflow.client",
        description="Sign govflow statements with a key that never leaves this machine.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(sub, server)
    return parser


def main(argv: list[str] | None = None, *, transport=None) -> int:
    args = build_parser().parse_args(argv)

    def make_api() -> Api:
        return Api(args.url, args.token, transport=transport, timeout=args.timeout,
                   receipts_dir=args.receipts_dir or receipts.default_dir())

    try:
        return args.run(args, make_api)
    except ApiError as exc:
        print(f"govflow refused: {exc.describe()}", file=sys.stderr)
        return 1
    except ClientError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
