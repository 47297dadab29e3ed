"""Command line of the witness: ``keygen``, ``vkey`` and ``serve``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from govflow.trust.note import NoteError, parse_verifier_key
from govflow.witness import keyfile
from govflow.witness.protocol import Witness
from govflow.witness.server import make_server
from govflow.witness.state import Store

DESCRIPTION = """\
A witness for govflow's audit log, speaking C2SP tlog-witness. Run it on a machine the
log's operator does not control. It remembers, per log, the latest checkpoint it cosigned
and cosigns a new checkpoint (C2SP tlog-cosignature v1, Ed25519, timestamped) only if the
log's signature verifies and a consistency proof shows the new tree extends the old one.
A rewritten or forked log gets 409 or 422 and no cosignature.
"""

EPILOG = """\
set up and run (as the regulator):
  python -m govflow.witness keygen --name regulator.example/witness --out witness.key
      (prints the witness's verifier key: give it to the log operator for GOVFLOW_WITNESSES
       and pass it to `python -m govflow.verify --witness`)
  python -m govflow.witness serve --state var/witness --key witness.key \\
      --log "$(curl -s $GOVFLOW_URL/api/log/key | jq -r .verifier_key)" \\
      --listen 127.0.0.1:7380

protocol: POST /add-checkpoint with "old <size>", consistency proof lines (base64), an
empty line and the signed checkpoint. 200 = cosignature line(s); 400 malformed; 403 not
signed by a trusted log key; 404 unknown log origin; 409 old size is not the size last
cosigned (body: that size, Content-Type text/x.tlog.size) or same size with another root;
422 consistency proof does not verify. The state directory holds a SQLite database
(synchronous commits): a witness killed at any moment keeps every checkpoint it cosigned.
Do not delete or copy it back from a backup: a witness that forgets must be retired.
"""


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError("must be HOST:PORT, e.g. 127.0.0.1:7380")
    return host, int(port)


def _log_key(value: str):
    try:
        return parse_verifier_key(value)
    except NoteError as exc:
        raise argparse.ArgumentTypeError(f"not a log verifier key: {exc}") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m govflow.witness", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    gen = sub.add_parser("keygen", help="create a witness key and print its verifier key")
    gen.add_argument("--name", required=True,
                     help="the witness's name, a schema-less URL (e.g. regulator.example/w1)")
    gen.add_argument("--out", type=Path, required=True, help="key file to create (mode 0600)")
    show = sub.add_parser("vkey", help="print the verifier key of a witness key file")
    show.add_argument("--key", type=Path, required=True)
    serve = sub.add_parser(
        "serve", help="answer add-checkpoint requests",
        description="Serve POST /add-checkpoint until interrupted.",
    )
    serve.add_argument("--state", type=Path, required=True,
                       help="directory for the witness's state (created if missing)")
    serve.add_argument("--key", type=Path, required=True, help="witness key file (from keygen)")
    serve.add_argument("--log", type=_log_key, action="append", required=True, metavar="VKEY",
                       help="verifier key of a log to witness (repeatable); its name is the "
                       "log's origin line")
    serve.add_argument("--listen", type=_listen, default=("127.0.0.1", 7380),
                       metavar="HOST:PORT", help="default 127.0.0.1:7380 (port 0: any free)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "keygen":
            key = keyfile.generate(args.name)
            keyfile.save(key, args.out)
            print(key.cosigner.vkey)
            return 0
        key = keyfile.load(args.key)
        if args.command == "vkey":
            print(key.cosigner.vkey)
            return 0
    except (keyfile.KeyFileError, NoteError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    witness = Witness(key=key, logs=args.log, store=Store(args.state))
    server = make_server(witness, *args.listen)
    host, port = str(server.server_address[0]), int(server.server_address[1])
    # Tests and supervisors read this line to learn the port when --listen asks for port 0.
    print(f"witness {key.name} listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
