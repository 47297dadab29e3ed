"""Client commands for third-party auditing: certify an auditor firm (regulators), file
a finding with its attachments in one command (auditors), append statements to a
finding (the lab, the auditor, the regulator), and conclude an engagement.

Statements are built with `govflow.auditing.predicates` (standard library only, the
same code the server parses them with) and signed here; the private key never leaves
this machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import mimetypes
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from govflow.auditing import predicates as statements
from govflow.client import signing
from govflow.client.remote import USER_AGENT, Api, ApiError, ClientError

LAB_ACTIONS = ("respond", "dispute", "accept_risk", "escalate", "decide")


# --- the operations ----------------------------------------------------------------------


def _multipart(fields: dict[str, str], filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = f"govflow-{uuid.uuid4().hex}"
    media = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    safe = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        .encode() for name, value in fields.items()
    ]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{safe}"\r\nContent-Type: {media}\r\n\r\n'.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def upload_attachment(api: Api, *, release: int, path: Path) -> dict[str, Any]:
    """Upload a file as evidence for a finding on ``release``; the server refuses it
    unless its bytes match the SHA-256 computed here."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ClientError(f"cannot read {path}: {exc.strerror}") from exc
    sha256 = hashlib.sha256(data).hexdigest()
    body, content_type = _multipart({"sha256": sha256, "name": path.name}, path.name, data)
    headers = {"Authorization": f"Bearer {api.token}", "Accept": "application/json",
               "User-Agent": USER_AGENT, "Content-Type": content_type,
               "Idempotency-Key": str(uuid.uuid4())}
    url = f"{api.base_url}/api/releases/{release}/finding-attachments"
    status, raw = api.transport("POST", url, headers, body)
    try:
        decoded = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        decoded = raw.decode("utf-8", "replace")
    if status >= 400:
        raise ApiError(status, decoded)
    return decoded


def _sign(statement: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    return signing.sign(statement, key)


def certify(api: Api, key: Ed25519PrivateKey, *, auditor: str, risk_areas: list[str],
            access_levels: list[str], valid_until: str, valid_from: str | None = None,
            standard: str = "") -> dict[str, Any]:
    statement = statements.build_certificate(
        auditor=auditor, risk_areas=risk_areas, access_levels=access_levels,
        valid_from=valid_from or signing.now_iso(), valid_until=valid_until, standard=standard,
    )
    return api.post("certificates", {"envelope": _sign(statement, key)})


def file_finding(api: Api, key: Ed25519PrivateKey, *, release: int, title: str, severity: str,
                 category: str, description: str, steps: list[str],
                 attachments: Sequence[Path] = (), log=None) -> dict[str, Any]:
    """Upload each attachment, build the finding naming them by digest, sign it, file it."""
    uploaded = []
    for path in attachments:
        row = upload_attachment(api, release=release, path=path)
        if log is not None:
            log(f"uploaded {path.name}: sha256:{row['sha256']} ({row['size']} bytes)")
        uploaded.append({"name": row["name"], "sha256": row["sha256"]})
    statement = statements.build_finding(
        release=api.get(f"releases/{release}"), title=title, severity=severity,
        category=category, description=description, reproduction_steps=steps,
        attachments=uploaded,
    )
    return api.post("findings", {"envelope": _sign(statement, key)})


def append_statement(api: Api, key: Ed25519PrivateKey, *, finding: int, action: str,
                     text: str, severity: str | None = None, outcome: str | None = None,
                     attachments: Sequence[Path] = (), log=None) -> dict[str, Any]:
    """Sign and append a statement (respond, amend, resolve, …) to a finding."""
    row = api.get(f"findings/{finding}")
    uploaded = [upload_attachment(api, release=row["release"], path=p) for p in attachments]
    if log is not None:
        log(f"finding {finding} ({row['current_severity']}, {row['status']}): "
            f"{row['title']} -> {action}")
    statement = statements.build_finding_statement(
        release=api.get(f"releases/{row['release']}"), finding=finding, action=action,
        text=text, severity=severity, outcome=outcome,
        attachments=[{"name": u["name"], "sha256": u["sha256"]} for u in uploaded],
    )
    return api.post(f"findings/{finding}/statements", {"envelope": _sign(statement, key)})


def conclude(api: Api, key: Ed25519PrivateKey, *, release: int, result: str, summary: str,
             conditions: Sequence[str] = (), log=None) -> dict[str, Any]:
    """Conclude your open engagement on ``release``, listing every finding you filed in it
    (the server refuses a conclusion that leaves one out)."""
    me = api.get("me")["username"]
    mine = [a for a in api.get(f"releases/{release}/assignments")
            if a["auditor"] == me and a["ended_at"] is None]
    if not mine:
        raise ClientError(f"you ({me}) have no open engagement on release {release}")
    engagement = mine[-1]["id"]
    findings = [f["id"] for f in api.pages("findings", release=release)
                if f["assignment"] == engagement]
    if log is not None:
        log(f"concluding engagement {engagement} on release {release}: {result}, "
            f"findings {findings or 'none'}")
    statement = statements.build_conclusion(
        release=api.get(f"releases/{release}"), engagement=engagement, result=result,
        summary=summary, findings=findings, conditions=conditions,
    )
    return api.post("conclusions", {"envelope": _sign(statement, key)})


# --- the command line ----------------------------------------------------------------------


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _print(row: Any) -> None:
    sys.stdout.write(json.dumps(row, indent=2, ensure_ascii=False) + "\n")


def _text(value: str | None, path: Path | None, what: str) -> str:
    if path is not None:
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ClientError(f"cannot read {path}: {exc.strerror}") from exc
    if not value:
        raise ClientError(f"give --{what} or --{what}-file")
    return value


def _returned(row: dict[str, Any]) -> None:
    if row.get("release_returned_to"):
        _say(f"the policy sent the release back to {row['release_returned_to']}")


def cmd_certify(args, make_api) -> int:
    row = certify(make_api(), signing.load_key(args.key), auditor=args.auditor,
                  risk_areas=args.risk_area, access_levels=args.access_level,
                  valid_from=args.valid_from, valid_until=args.valid_until,
                  standard=args.standard)
    _say(f"certificate {row['id']}: {row['auditor']} for {', '.join(row['risk_areas'])} "
         f"({', '.join(row['access_levels'])}) until {row['valid_until']}")
    _print(row)
    return 0


def cmd_finding_file(args, make_api) -> int:
    row = file_finding(make_api(), signing.load_key(args.key), release=args.release,
                       title=args.title, severity=args.severity, category=args.category,
                       description=_text(args.description, args.description_file,
                                         "description"),
                       steps=args.step, attachments=args.attach, log=_say)
    _say(f"filed finding {row['id']} ({row['severity']}) on release {row['release']}")
    _returned(row)
    _print(row)
    return 0


def _cmd_append(action: str | None):
    def run(args, make_api) -> int:
        row = append_statement(
            make_api(), signing.load_key(args.key), finding=args.finding,
            action=action or args.action, text=_text(args.text, args.text_file, "text"),
            severity=getattr(args, "severity", None), outcome=getattr(args, "outcome", None),
            attachments=getattr(args, "attach", []), log=_say,
        )
        _say(f"appended {row['action']} to finding {row['finding']}: "
             f"{row['status_from']} -> {row['status_to']}")
        _returned(row)
        _print(row)
        return 0

    return run


def cmd_conclude(args, make_api) -> int:
    row = conclude(make_api(), signing.load_key(args.key), release=args.release,
                   result=args.result, summary=_text(args.summary, args.summary_file, "summary"),
                   conditions=args.condition, log=_say)
    _say(f"recorded conclusion {row['id']}: {row['result']}; your access has ended")
    _returned(row)
    _print(row)
    return 0


def _signer(p: argparse.ArgumentParser) -> None:
    p.add_argument("--key", type=Path, required=True, help="your private key file")


def _text_options(p: argparse.ArgumentParser, name: str, help: str) -> None:
    p.add_argument(f"--{name}", help=help)
    p.add_argument(f"--{name}-file", type=Path, help=f"read the {name} from a file")


def register(sub, server: argparse.ArgumentParser) -> None:
    """Add the auditing subcommands; ``server`` holds the --url/--token options."""
    p = sub.add_parser("certify", parents=[server],
                       help="(regulator) certify an auditor firm with a signed certificate")
    p.add_argument("--auditor", required=True, help="the auditor organization's slug")
    p.add_argument("--risk-area", action="append", required=True,
                   help="a risk area it is certified for (repeat: deception, cyber, …)")
    p.add_argument("--access-level", action="append", required=True,
                   choices=statements.ACCESS_LEVELS, help="an access level it may receive")
    p.add_argument("--valid-from", help="ISO 8601 (default: now)")
    p.add_argument("--valid-until", required=True, help="ISO 8601, e.g. 2027-12-31T00:00:00Z")
    p.add_argument("--standard", default="", help="the standard it was assessed against")
    _signer(p)
    p.set_defaults(run=cmd_certify)

    p = sub.add_parser("finding-file", parents=[server],
                       help="(auditor) upload attachments, sign and file a finding, in one step",
                       description="Upload each --attach file (checked against its SHA-256), "
                       "build the finding naming them by digest, sign it with your key and "
                       "file it.")
    p.add_argument("--release", type=int, required=True, help="release id")
    p.add_argument("--title", required=True)
    p.add_argument("--severity", required=True, choices=statements.SEVERITIES)
    p.add_argument("--category", required=True, help="e.g. deception, tool_misuse")
    _text_options(p, "description", "what is wrong, and why it matters")
    p.add_argument("--step", action="append", default=[], help="a reproduction step (repeat)")
    p.add_argument("--attach", action="append", type=Path, default=[],
                   help="a file of evidence (repeat)")
    _signer(p)
    p.set_defaults(run=cmd_finding_file)

    p = sub.add_parser("finding-respond", parents=[server],
                       help="(lab, regulator) respond to, dispute, accept the risk of, "
                       "escalate or decide a finding")
    p.add_argument("--finding", type=int, required=True)
    p.add_argument("--action", choices=LAB_ACTIONS, default="respond")
    p.add_argument("--outcome", choices=statements.OUTCOMES, help="for decide (regulators)")
    _text_options(p, "text", "your statement")
    _signer(p)
    p.set_defaults(run=_cmd_append(None))

    p = sub.add_parser("finding-amend", parents=[server],
                       help="(filing auditor) amend a finding, e.g. raise its severity")
    p.add_argument("--finding", type=int, required=True)
    p.add_argument("--severity", choices=statements.SEVERITIES, help="a new severity")
    p.add_argument("--attach", action="append", type=Path, default=[])
    _text_options(p, "text", "what changes, and why")
    _signer(p)
    p.set_defaults(run=_cmd_append("amend"))

    p = sub.add_parser("finding-resolve", parents=[server],
                       help="(filing auditor) resolve a finding the lab fixed")
    p.add_argument("--finding", type=int, required=True)
    _text_options(p, "text", "how the fix was checked")
    _signer(p)
    p.set_defaults(run=_cmd_append("resolve"))

    p = sub.add_parser("conclude", parents=[server],
                       help="(auditor) sign your audit conclusion; ends your engagement",
                       description="Conclude your open engagement on the release, listing "
                       "every finding you filed in it.")
    p.add_argument("--release", type=int, required=True)
    p.add_argument("--result", required=True, choices=statements.RESULTS)
    p.add_argument("--condition", action="append", default=[],
                   help="a condition (repeat; pass_with_conditions)")
    _text_options(p, "summary", "the conclusion in words")
    _signer(p)
    p.set_defaults(run=cmd_conclude)
