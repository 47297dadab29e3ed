"""Client commands for signing keys and sign-offs.

Each command is a plain function taking an `Api` (so tests and scripts call them
directly) plus an argparse wrapper registered by `register`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from govflow.client import signing
from govflow.client.remote import Api, ClientError

DECISIONS = ("approve", "reject")


# --- the operations ----------------------------------------------------------------------


def register_key(api: Api, key: Ed25519PrivateKey, *, name: str,
                 expires_at: str | None = None) -> dict[str, Any]:
    """Register the public half of ``key`` (the private key is never sent)."""
    body = {"public_key": signing.public_key_text(key), "name": name}
    if expires_at:
        body["expires_at"] = expires_at
    return api.post("keys", body)


def fetch_nonce(api: Api, *, release: int, role: str) -> dict[str, Any]:
    """A nonce the server issues to you for one sign-off: {nonce, expires_at}."""
    return api.get(f"releases/{release}/signoff-nonce", role=role)


def fetch_payload(api: Api, *, release: int, role: str, decision: str = "approve",
                  comment: str = "", nonce: str | None = None) -> dict[str, Any]:
    """The statement the server asks you to sign for the release's next step, around
    ``nonce`` (one `fetch_nonce` got you) or a nonce the server issues to you now."""
    return api.get(f"releases/{release}/signoff-payload", role=role, decision=decision,
                   comment=comment or None, nonce=nonce)


def check_statement(api: Api, statement: dict[str, Any]) -> dict[str, Any]:
    """Fetch the gate report the statement approves and recompute its evidence digest
    here; refuse if the digest does not cover what the report shows. Returns the report."""
    predicate = statement["predicate"]
    report = api.get(f"releases/{predicate['release']}/gates",
                     target=predicate["transition"]["to"])
    digest = signing.evidence_digest(report)
    if digest != report.get("evidence_digest"):
        raise ClientError(f"the server's gate report digest {report.get('evidence_digest')} "
                          f"does not match its evidence ({digest}); not signing")
    if digest != predicate["gate_report_digest"]:
        raise ClientError("the release's evidence changed between fetching the statement and "
                          "the gate report; run the command again")
    return report


def submit(api: Api, envelope: dict[str, Any]) -> dict[str, Any]:
    return api.post("signoffs", {"envelope": envelope})


def signoff(api: Api, *, release: int, role: str, key: Ed25519PrivateKey,
            decision: str = "approve", comment: str = "", log=None) -> dict[str, Any]:
    """Fetch the statement, check it against the gate report, sign it here, submit it."""
    nonce = fetch_nonce(api, release=release, role=role)["nonce"]
    statement = fetch_payload(api, release=release, role=role, decision=decision,
                              comment=comment, nonce=nonce)
    report = check_statement(api, statement)
    if log is not None:
        log(f"signing: {signing.describe(statement)}")
        for gate in report["gates"]:
            if not gate["approval"]:
                log(f"  evidence {gate['id']}: {gate['reason']}")
    return submit(api, signing.sign(statement, key))


# --- the command line ----------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
        return json.loads(text)
    except OSError as exc:
        raise ClientError(f"cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ClientError(f"{path} is not JSON: {exc}") from exc


def _write_json(data: Any, path: Path | None) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if path is None or str(path) == "-":
        sys.stdout.write(text)
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ClientError(f"cannot write {path}: {exc.strerror}") from exc


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _summary(row: dict[str, Any]) -> str:
    return (f"recorded sign-off {row['id']}: {row['signer']} {row['decision']}s "
            f"{row['from_stage']} -> {row['target_stage']} of release {row['release']} "
            f"as {row['role']} (key {row['key_id'][:16]}…)")


def cmd_keygen(args, make_api) -> int:
    key = signing.keygen(args.out, overwrite=args.force)
    _say(f"wrote a new Ed25519 private key to {args.out} (mode 0600); keep it there")
    _write_json({"key_id": signing.key_id(key), "public_key": signing.public_key_text(key)},
                None)
    return 0


def cmd_register_key(args, make_api) -> int:
    row = register_key(make_api(), signing.load_key(args.key), name=args.name,
                       expires_at=args.expires_at)
    _say(f"registered key {row['key_id']} for {row['user']}")
    _write_json(row, None)
    return 0


def cmd_payload(args, make_api) -> int:
    statement = fetch_payload(make_api(), release=args.release, role=args.role,
                              decision=args.decision, comment=args.comment)
    _write_json(statement, args.out)
    return 0


def cmd_sign(args, make_api) -> int:
    statement = _read_json(args.input)
    if not isinstance(statement, dict):
        raise ClientError(f"{args.input} does not hold a statement (a JSON object)")
    _say(f"signing: {signing.describe(statement)}")
    _write_json(signing.sign(statement, signing.load_key(args.key)), args.out)
    return 0


def cmd_submit(args, make_api) -> int:
    row = submit(make_api(), _read_json(args.envelope))
    _say(_summary(row))
    _write_json(row, None)
    return 0


def cmd_signoff(args, make_api) -> int:
    key = signing.load_key(args.key)
    row = signoff(make_api(), release=args.release, role=args.role, key=key,
                  decision=args.decision, comment=args.comment, log=_say)
    _say(_summary(row))
    _write_json(row, None)
    return 0


def _statement_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--release", type=int, required=True, help="release id")
    parser.add_argument("--role", required=True,
                        help="the role you sign as: lab_signer, safety_officer, release_manager")
    parser.add_argument("--decision", choices=DECISIONS, default="approve",
                        help="approve (default) or reject; a reject vetoes until you sign a "
                        "newer approve")
    parser.add_argument("--comment", default="", help="free text, signed with the statement")


def register(sub, server: argparse.ArgumentParser) -> None:
    """Add this module's subcommands; ``server`` holds the --url/--token options."""
    p = sub.add_parser("keygen", help="generate an Ed25519 signing key (stays on this machine)",
                       description="Write a new Ed25519 private key (PKCS#8 PEM, mode 0600) and "
                       "print its key id and public key.")
    p.add_argument("--out", type=Path, required=True, help="private key file to create")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(run=cmd_keygen)

    p = sub.add_parser("register-key", parents=[server], help="register your public key",
                       description="Send the public half of a private key file to the server "
                       "as one of your signing keys.")
    p.add_argument("--key", type=Path, required=True, help="your private key file")
    p.add_argument("--name", required=True, help="a name for the key, e.g. 'laptop 2025'")
    p.add_argument("--expires-at", help="ISO 8601 time after which the key is refused")
    p.set_defaults(run=cmd_register_key)

    p = sub.add_parser("payload", parents=[server],
                       help="print the statement to sign for a release's next step",
                       description="Fetch the in-toto statement for the release's next stage "
                       "(the server fills a fresh nonce). Changes nothing.")
    _statement_options(p)
    p.add_argument("--out", type=Path, help="write to this file instead of stdout")
    p.set_defaults(run=cmd_payload)

    p = sub.add_parser("sign", help="sign a statement locally into a DSSE envelope",
                       description="Sign a statement file with your private key. Fills "
                       "predicate.signed_at with this machine's clock if it is empty.")
    p.add_argument("--key", type=Path, required=True, help="your private key file")
    p.add_argument("--in", dest="input", type=Path, required=True,
                   help="statement JSON file ('-' for stdin)")
    p.add_argument("--out", type=Path, help="envelope file to write (default: stdout)")
    p.set_defaults(run=cmd_sign)

    p = sub.add_parser("submit", parents=[server], help="submit a signed envelope",
                       description="POST a DSSE envelope to /api/signoffs.")
    p.add_argument("--envelope", type=Path, required=True, help="envelope JSON ('-' for stdin)")
    p.set_defaults(run=cmd_submit)

    p = sub.add_parser("signoff", parents=[server],
                       help="fetch, check, sign and submit a sign-off in one step",
                       description="Fetch the statement for the release's next step, check its "
                       "gate-report digest against the evidence the server shows, sign it "
                       "with your key and submit it.")
    _statement_options(p)
    p.add_argument("--key", type=Path, required=True, help="your private key file")
    p.set_defaults(run=cmd_signoff)
