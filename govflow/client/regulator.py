"""Client commands for the signed acts that were bare tokens once: certificate status, an
auditor's assignment and its early end (regulators), filing and resolving an incident and
ordering a cohort snapshot (anyone whose role allows it, the lab's people included).

Each builds its statement here with the area's predicate module (standard library and
`govflow.trust` only, the same code the server reads it with), signs it with a key that
never leaves this machine, and posts the envelope.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from govflow.auditing import predicates as auditing
from govflow.client import signing
from govflow.client.remote import Api
from govflow.monitoring import predicates as monitoring
from govflow.rollout import predicates as rollout

# --- the operations ----------------------------------------------------------------------


def certificate_status(api: Api, key: Ed25519PrivateKey, *, certificate: int, action: str,
                       reason: str) -> dict[str, Any]:
    """Suspend, reinstate or revoke ``certificate`` (regulators)."""
    row = api.get(f"certificates/{certificate}")
    statement = auditing.build_certificate_status(auditor=row["auditor"],
                                                  certificate=certificate, action=action,
                                                  reason=reason)
    return api.post(f"certificates/{certificate}/{action}",
                    {"envelope": signing.sign(statement, key)})


def assign(api: Api, key: Ed25519PrivateKey, *, release: int, auditor: str, ends_at: str,
           access_level: str | None = None) -> dict[str, Any]:
    """Assign an auditor (by username) to the release's third-party audit (regulators)."""
    statement = auditing.build_assignment(release=api.get(f"releases/{release}"),
                                          auditor=auditor, ends_at=ends_at,
                                          access_level=access_level)
    return api.post(f"releases/{release}/assignments",
                    {"envelope": signing.sign(statement, key)})


def assignment_end(api: Api, key: Ed25519PrivateKey, *, release: int, assignment: int,
                   reason: str) -> dict[str, Any]:
    """End an auditor's engagement early (regulators); their access ends with it."""
    statement = auditing.build_assignment_end(release=api.get(f"releases/{release}"),
                                              assignment=assignment, reason=reason)
    return api.post(f"assignments/{assignment}/end", {"envelope": signing.sign(statement, key)})


def incident_file(api: Api, key: Ed25519PrivateKey, *, release: int, severity: str,
                  category: str, description: str, evidence: Sequence[str] = (),
                  detected_at: str | None = None) -> dict[str, Any]:
    """File a signed incident (anyone who sees the release; a critical one may pause it
    under its policy)."""
    statement = monitoring.build_incident(
        release=api.get(f"releases/{release}"), severity=severity, category=category,
        description=description, evidence_digests=list(evidence), detected_at=detected_at)
    return api.post("incidents", {"envelope": signing.sign(statement, key)})


def incident_resolve(api: Api, key: Ed25519PrivateKey, *, incident: int,
                     resolution: str) -> dict[str, Any]:
    row = api.get(f"incidents/{incident}")
    statement = monitoring.build_resolution(release=api.get(f"releases/{row['release']}"),
                                            incident=incident, resolution=resolution)
    return api.post(f"incidents/{incident}/resolve", {"envelope": signing.sign(statement, key)})


def snapshot_order(api: Api, key: Ed25519PrivateKey, *, release: int,
                   stage: str) -> dict[str, Any]:
    """Order a signed snapshot of the release's cohort at ``stage`` (regulators and the
    lab's release managers)."""
    statement = rollout.build_snapshot_order(release=api.get(f"releases/{release}"),
                                             stage=stage)
    return api.post(f"releases/{release}/cohorts/{stage}/snapshot",
                    {"envelope": signing.sign(statement, key)})


# --- the command line ----------------------------------------------------------------------


def _done(row: Any, message: str) -> int:
    print(message, file=sys.stderr)
    sys.stdout.write(json.dumps(row, indent=2, ensure_ascii=False) + "\n")
    return 0


def cmd_certificate_status(args, make_api) -> int:
    row = certificate_status(make_api(), signing.load_key(args.key),
                             certificate=args.certificate, action=args.action,
                             reason=args.reason)
    return _done(row, f"certificate {row['id']} is now {row['status']}")


def cmd_assign(args, make_api) -> int:
    row = assign(make_api(), signing.load_key(args.key), release=args.release,
                 auditor=args.auditor, ends_at=args.ends_at, access_level=args.access_level)
    return _done(row, f"assignment {row['id']}: {args.auditor} audits release {args.release} "
                      f"until {row.get('ends_at')}")


def cmd_assignment_end(args, make_api) -> int:
    row = assignment_end(make_api(), signing.load_key(args.key), release=args.release,
                         assignment=args.assignment, reason=args.reason)
    return _done(row, f"engagement {row['id']} ended; the auditor's access is revoked")


def cmd_incident(args, make_api) -> int:
    row = incident_file(make_api(), signing.load_key(args.key), release=args.release,
                        severity=args.severity, category=args.category,
                        description=args.description, evidence=args.evidence,
                        detected_at=args.detected_at)
    paused = " (the release is paused)" if row["response"].get("paused") else ""
    return _done(row, f"incident {row['id']} filed on release {row['release']}{paused}")


def cmd_incident_resolve(args, make_api) -> int:
    row = incident_resolve(make_api(), signing.load_key(args.key), incident=args.incident,
                           resolution=args.resolution)
    return _done(row, f"incident {row['id']} resolved")


def cmd_snapshot_order(args, make_api) -> int:
    row = snapshot_order(make_api(), signing.load_key(args.key), release=args.release,
                         stage=args.stage)
    return _done(row, f"cohort snapshot: {row.get('size')} members, root {row.get('root')}")


def register(sub, server: argparse.ArgumentParser) -> None:
    def key(p: argparse.ArgumentParser) -> None:
        p.add_argument("--key", type=Path, required=True, help="your private key file")

    p = sub.add_parser("certificate-status", parents=[server],
                       help="(regulator) sign a suspension, reinstatement or revocation")
    p.add_argument("--certificate", type=int, required=True)
    p.add_argument("--action", required=True, choices=auditing.CERTIFICATE_MOVES)
    p.add_argument("--reason", required=True)
    key(p)
    p.set_defaults(run=cmd_certificate_status)

    p = sub.add_parser("assign", parents=[server],
                       help="(regulator) sign the assignment of an auditor to a release")
    p.add_argument("--release", type=int, required=True)
    p.add_argument("--auditor", required=True, help="the auditor's username")
    p.add_argument("--ends-at", required=True,
                   help="RFC 3339, e.g. 2027-03-01T00:00:00Z: when the engagement ends")
    p.add_argument("--access-level", choices=auditing.ACCESS_LEVELS,
                   help="default: the highest the auditor's certificate allows")
    key(p)
    p.set_defaults(run=cmd_assign)

    p = sub.add_parser("assignment-end", parents=[server],
                       help="(regulator) sign the early end of an auditor's engagement")
    p.add_argument("--release", type=int, required=True)
    p.add_argument("--assignment", type=int, required=True)
    p.add_argument("--reason", required=True)
    key(p)
    p.set_defaults(run=cmd_assignment_end)

    p = sub.add_parser("incident", parents=[server],
                       help="sign and file an incident on a release (anyone who sees it)")
    p.add_argument("--release", type=int, required=True)
    p.add_argument("--severity", required=True, choices=monitoring.SEVERITIES)
    p.add_argument("--category", required=True, choices=monitoring.CATEGORIES)
    p.add_argument("--description", required=True)
    p.add_argument("--evidence", action="append", default=[],
                   help="sha256:<hex> of a piece of evidence (repeat)")
    p.add_argument("--detected-at", help="ISO 8601 (default: now)")
    key(p)
    p.set_defaults(run=cmd_incident)

    p = sub.add_parser("incident-resolve", parents=[server],
                       help="(regulator, lab release manager or safety officer) sign the "
                            "resolution of an incident")
    p.add_argument("--incident", type=int, required=True)
    p.add_argument("--resolution", required=True)
    key(p)
    p.set_defaults(run=cmd_incident_resolve)

    p = sub.add_parser("snapshot-order", parents=[server],
                       help="(regulator, lab release manager) sign an order to publish a cohort "
                            "snapshot now")
    p.add_argument("--release", type=int, required=True)
    p.add_argument("--stage", required=True, help="e.g. limited_rollout")
    key(p)
    p.set_defaults(run=cmd_snapshot_order)
