"""Receipts kept by the client, and checking that the log still holds them.

Every write the server records answers with a ``receipt`` (govflow.audit.receipts); the
client stores each one as ``<event uuid>.json`` in its receipts directory:
``--receipts-dir``, else ``$GOVFLOW_RECEIPTS_DIR``, else ``~/.local/share/govflow/receipts``.

``receipts verify`` completes each receipt from the server and checks, with the log key
you pinned (and witnesses, if you name them): the event is still in the log with the same
leaf hash; its inclusion proof leads to the newest witnessed checkpoint, signed by the log
key and cosigned by the quorum; and that checkpoint is consistent with the one the
receipt first came with. An event the log no longer holds is named as VANISHED.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govflow.client.remote import Api, ApiError, ClientError
from govflow.trust import merkle
from govflow.verify.log_checks import open_checkpoint
from govflow.verify.report import Report, VerificationFailed
from govflow.verify.witnesses import UsageError, check_quorum, count_cosigned, parse_witnesses

ENV = "GOVFLOW_RECEIPTS_DIR"


def default_dir() -> Path:
    configured = os.environ.get(ENV)
    return Path(configured) if configured else Path.home() / ".local/share/govflow/receipts"


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def keep(receipt: dict[str, Any], directory: Path) -> Path | None:
    """Store a receipt the server returned; the first checkpoint it came with is kept."""
    uuid = str(receipt.get("uuid", ""))
    if not uuid or "/" in uuid or uuid.startswith("."):
        return None
    path = directory / f"{uuid}.json"
    previous = _load(path) if path.exists() else {}
    merged = {**receipt, "first_checkpoint": previous.get("first_checkpoint")
              or receipt.get("checkpoint")}
    _write(path, merged)
    return path


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ClientError(f"cannot read receipt {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ClientError(f"{path} is not a receipt")
    return data


@dataclass
class Verdict:
    uuid: str
    event: Any
    status: str  # "ok", "pending", "vanished" or "failed"
    detail: str


def _checkpoint(entry: dict[str, Any], log_key: str, origin: str) -> tuple[int, bytes]:
    size, root = open_checkpoint(entry["note"], log_key, origin)
    if size != entry.get("size"):
        raise VerificationFailed(f"checkpoint note says size {size}, receipt says "
                                 f"{entry.get('size')}")
    return size, root


def verify_one(api: Api, stored: dict[str, Any], *, log_key: str, witnesses, quorum: int
               ) -> tuple[Verdict, dict[str, Any] | None]:
    uuid, event = str(stored.get("uuid")), stored.get("event")
    if not isinstance(event, int):
        return Verdict(uuid, event, "failed", "the stored receipt names no event id"), None
    try:
        current = api.get(f"log/events/{event}/receipt")
    except ApiError as exc:
        if exc.status == 404:
            return Verdict(uuid, event, "vanished", "the log no longer has this event"), None
        raise
    if (current.get("uuid"), current.get("leaf_hash")) != (uuid, stored.get("leaf_hash")):
        return Verdict(uuid, event, "vanished",
                       "event id now holds another event or another leaf hash"), None
    if current.get("index") is None or current.get("checkpoint") is None:
        if stored.get("first_checkpoint"):
            return Verdict(uuid, event, "vanished",
                           "was in a checkpoint before, now is not in the tree"), None
        return Verdict(uuid, event, "pending", "not yet sequenced; try again later"), current
    origin = str(current.get("log"))
    try:
        entry = current["checkpoint"]
        size, root = _checkpoint(entry, log_key, origin)
        check_quorum(entry, witnesses, quorum, Report())
        proof = [base64.b64decode(h, validate=True) for h in current["inclusion"]]
        leaf = bytes.fromhex(current["leaf_hash"])
        if not merkle.verify_inclusion(leaf, current["index"], size, proof, root):
            return Verdict(uuid, event, "vanished",
                           f"not included in checkpoint {size}"), None
        first = stored.get("first_checkpoint")
        came_with = ""
        if first:
            old_size, old_root = _checkpoint(first, log_key, origin)
            if old_size > size:
                return Verdict(uuid, event, "vanished", f"the log shrank from {old_size} "
                               f"to {size} events"), None
            hashes: list[bytes] = []
            if old_size < size:
                answer = api.get("log/consistency", first=old_size, second=size)
                hashes = [base64.b64decode(h, validate=True) for h in answer["hashes"]]
            if not merkle.verify_consistency(old_size, size, hashes, old_root, root):
                return Verdict(uuid, event, "failed", f"checkpoint {size} is not consistent "
                               f"with checkpoint {old_size} the receipt came with: the log "
                               "was rewritten"), None
            came_with = _first_witnessed(first, witnesses, quorum, old_size)
    except VerificationFailed as exc:
        return Verdict(uuid, event, "failed", str(exc)), None
    except (KeyError, TypeError, ValueError) as exc:
        return Verdict(uuid, event, "failed", f"malformed receipt from the server: {exc}"), None
    witnessed = f", cosigned by {quorum} witness(es)" if witnesses else ""
    return Verdict(uuid, event, "ok", f"leaf {current['index']} in checkpoint {size}"
                   f"{witnessed}{came_with}"), current


def _first_witnessed(first: dict[str, Any], witnesses, quorum: int, size: int) -> str:
    """What the checkpoint the receipt came with adds: with the quorum, the log's
    commitment to the event was public from then on; under it (a witness was down, or the
    receipt was completed before witnessing), only the log key vouched for it then, and
    the receipt says so rather than passing over it. A forged line fails it."""
    if not witnesses:
        return ""
    valid = count_cosigned(first, witnesses)
    if len(valid) >= quorum:
        return f"; the checkpoint it came with ({size}) meets the quorum too"
    return (f"; the checkpoint it came with ({size}) has {len(valid)} of the pinned "
            f"cosignatures, under the quorum of {quorum}: consistency with it rests on the "
            "log key only")


def verify_all(api: Api, directory: Path, *, log_key: str, witness_keys: list[str],
               quorum: int | None) -> list[Verdict]:
    witnesses, needed = parse_witnesses(witness_keys, quorum)
    verdicts = []
    for path in sorted(directory.glob("*.json")):
        stored = _load(path)
        verdict, current = verify_one(api, stored, log_key=log_key, witnesses=witnesses,
                                      quorum=needed)
        if current is not None:
            keep(current, directory)
        verdicts.append(verdict)
    return verdicts


def _dir(args) -> Path:
    return args.receipts_dir or default_dir()


def cmd_list(args, make_api) -> int:
    for path in sorted(_dir(args).glob("*.json")):
        r = _load(path)
        where = f"leaf {r['index']}" if r.get("index") is not None else "not yet sequenced"
        print(f"{r.get('uuid')}  event {r.get('event')}  {r.get('event_type')}  {where}")
    return 0


def cmd_verify(args, make_api) -> int:
    directory = _dir(args)
    if not directory.is_dir():
        raise ClientError(f"no receipts directory {directory}")
    try:
        verdicts = verify_all(make_api(), directory, log_key=args.log_key,
                              witness_keys=args.witness, quorum=args.quorum)
    except UsageError as exc:
        raise ClientError(str(exc)) from exc
    for v in verdicts:
        print(f"{v.status.upper():8} {v.uuid} (event {v.event}): {v.detail}")
    bad = [v for v in verdicts if v.status in ("vanished", "failed")]
    print(f"{len(verdicts)} receipt(s): {len(verdicts) - len(bad)} still held, "
          f"{len(bad)} vanished or failing")
    return 1 if bad else 0


def register(sub, server) -> None:
    p = sub.add_parser("receipts", help="receipts of your recorded acts: list, verify",
                       description=__doc__,
                       formatter_class=__import__("argparse").RawDescriptionHelpFormatter)
    inner = p.add_subparsers(dest="receipts_command", metavar="ACTION", required=True)
    ls = inner.add_parser("list", parents=[server], help="list the receipts kept here")
    ls.set_defaults(run=cmd_list)
    check = inner.add_parser(
        "verify", parents=[server],
        help="prove each receipt still included in the newest witnessed checkpoint",
        description="Exit 0 when every receipt is still held (or not yet sequenced), 1 when "
        "any vanished or fails.",
    )
    check.add_argument("--log-key", required="GOVFLOW_LOG_KEY" not in os.environ,
                       default=os.environ.get("GOVFLOW_LOG_KEY"),
                       help="the log's verifier key you pinned (env GOVFLOW_LOG_KEY; "
                       "GET /api/log/key, saved when you first trusted the log)")
    check.add_argument("--witness", action="append", default=[], metavar="VKEY",
                       help="a witness key you trust (repeatable)")
    check.add_argument("--quorum", type=int, metavar="K",
                       help="cosignatures required (default: all --witness keys)")
    check.set_defaults(run=cmd_verify)
