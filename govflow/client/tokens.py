"""Client commands for your own API tokens: list them, create one, revoke one.

A token's secret is printed once, when it is created (the server keeps only its hash).
A token created while calling with a token expires no later than that one, and is
revoked with it: revoke a leaked token and whatever was made with it goes too.

A *machine token* (`machine-token-create`, a release manager's) is for a monitoring
source or serving gateway: it files incidents on one release (`incident-report`) and
does nothing else.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from govflow.client.remote import Api


def token_list(api: Api) -> list[dict[str, Any]]:
    return api.pages("tokens")


def token_create(api: Api, *, name: str, ttl_days: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name}
    if ttl_days is not None:
        body["ttl_days"] = ttl_days
    return api.post("tokens", body)


def token_revoke(api: Api, *, token_id: int) -> dict[str, Any]:
    return api.post(f"tokens/{token_id}/revoke")


def machine_token_create(api: Api, *, release: int, name: str, purpose: str,
                         ttl_days: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "purpose": purpose}
    if ttl_days is not None:
        body["ttl_days"] = ttl_days
    return api.post(f"releases/{release}/machine-tokens", body)


def incident_report(api: Api, *, release: int, severity: str, category: str,
                    description: str, evidence: list[str], source: int | None = None,
                    detected_at: str | None = None) -> dict[str, Any]:
    """An incident filed with a machine token (unsigned: the event names the token)."""
    body: dict[str, Any] = {"release": release, "severity": severity, "category": category,
                            "description": description, "evidence_digests": evidence}
    if source is not None:
        body["source"] = source
    if detected_at is not None:
        body["detected_at"] = detected_at
    return api.post("incidents", body)


def _line(row: dict[str, Any]) -> str:
    state = f"revoked {row['revoked_at']}" if row["revoked_at"] else f"expires {row['expires_at']}"
    return f"{row['id']:>6}  {row['prefix']}…  {row['name']}  ({state})"


def cmd_tokens(args, make_api) -> int:
    rows = token_list(make_api())
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        for row in rows:
            print(_line(row))
    return 0


def cmd_token_create(args, make_api) -> int:
    made = token_create(make_api(), name=args.name, ttl_days=args.ttl_days)
    print(f"created token {made['token']['id']} ({made['token']['name']}), expires "
          f"{made['token']['expires_at']}; its secret, shown only now:", file=sys.stderr)
    print(made["secret"])
    return 0


def cmd_token_revoke(args, make_api) -> int:
    row = token_revoke(make_api(), token_id=args.id)
    print(f"revoked token {row['id']} ({row['prefix']}…) at {row['revoked_at']}",
          file=sys.stderr)
    return 0


def cmd_machine_tokens(args, make_api) -> int:
    for row in make_api().get(f"releases/{args.release}/machine-tokens"):
        print(f"{_line(row)}  {row['purpose']} on release {row['release']} by {row['owner']}")
    return 0


def cmd_machine_token_create(args, make_api) -> int:
    made = machine_token_create(make_api(), release=args.release, name=args.name,
                                purpose=args.purpose, ttl_days=args.ttl_days)
    print(f"created machine token {made['token']['id']} ({made['token']['purpose']} on "
          f"release {made['token']['release']}), expires {made['token']['expires_at']}; its "
          "secret, shown only now:", file=sys.stderr)
    print(made["secret"])
    return 0


def cmd_machine_token_revoke(args, make_api) -> int:
    row = make_api().post(f"releases/{args.release}/machine-tokens/{args.id}/revoke")
    print(f"revoked machine token {row['id']} ({row['prefix']}…) at {row['revoked_at']}",
          file=sys.stderr)
    return 0


def cmd_source_heartbeat(args, make_api) -> int:
    row = make_api().post(f"monitoring-sources/{args.source}/heartbeat")
    print(f"source {row['id']} alive at {row['last_heartbeat_at']}", file=sys.stderr)
    return 0


def cmd_incident_report(args, make_api) -> int:
    row = incident_report(make_api(), release=args.release, severity=args.severity,
                          category=args.category, description=args.description,
                          evidence=args.evidence, source=args.source,
                          detected_at=args.detected_at)
    paused = " (the release is paused)" if row["response"].get("paused") else ""
    print(f"incident {row['id']} filed on release {row['release']}{paused}", file=sys.stderr)
    sys.stdout.write(json.dumps(row, indent=2) + "\n")
    return 0


def register(sub, server: argparse.ArgumentParser) -> None:
    from govflow.monitoring.predicates import CATEGORIES, SEVERITIES


    p = sub.add_parser("tokens", parents=[server], help="list your API tokens",
                       description="List your API tokens (never their secrets).")
    p.add_argument("--json", action="store_true", help="print JSON rows")
    p.set_defaults(run=cmd_tokens)

    p = sub.add_parser("token-create", parents=[server], help="create an API token",
                       description="Create an API token for yourself; the secret is printed "
                       "once on stdout.")
    p.add_argument("--name", required=True, help="what it is for, e.g. 'gateway eu-west'")
    p.add_argument("--ttl-days", type=int, help="days until it expires (server default if "
                   "omitted)")
    p.set_defaults(run=cmd_token_create)

    p = sub.add_parser("token-revoke", parents=[server], help="revoke one of your API tokens",
                       description="Revoke one of your tokens (and every token made with it); "
                       "it is refused from the next request on.")
    p.add_argument("--id", type=int, required=True, help="the token's id (see `tokens`)")
    p.set_defaults(run=cmd_token_revoke)

    p = sub.add_parser("machine-tokens", parents=[server],
                       help="(lab release manager, safety officer) a release's machine tokens")
    p.add_argument("--release", type=int, required=True)
    p.set_defaults(run=cmd_machine_tokens)

    p = sub.add_parser("machine-token-create", parents=[server],
                       help="(lab release manager) a token for a monitoring source or gateway",
                       description="Issue a machine token: it may do its purpose on this "
                       "release and nothing else (read nothing, resolve nothing, sign "
                       "nothing). The secret is printed once on stdout.")
    p.add_argument("--release", type=int, required=True)
    p.add_argument("--name", required=True, help="e.g. 'abuse classifier'")
    p.add_argument("--purpose", default="incident:file",
                   choices=["incident:file", "source:heartbeat"])
    p.add_argument("--ttl-days", type=int, help="days until it expires (server default if "
                   "omitted)")
    p.set_defaults(run=cmd_machine_token_create)

    p = sub.add_parser("machine-token-revoke", parents=[server],
                       help="(lab release manager, safety officer) revoke a machine token")
    p.add_argument("--release", type=int, required=True)
    p.add_argument("--id", type=int, required=True, help="the token's id")
    p.set_defaults(run=cmd_machine_token_revoke)

    p = sub.add_parser("source-heartbeat", parents=[server],
                       help="(machine token) a monitoring source says it is alive")
    p.add_argument("--source", type=int, required=True, help="the monitoring source's id")
    p.set_defaults(run=cmd_source_heartbeat)

    p = sub.add_parser("incident-report", parents=[server],
                       help="(machine token) file an incident on the token's release",
                       description="What a monitoring source or serving gateway runs, with "
                       "its machine token as GOVFLOW_TOKEN. A person files a signed incident "
                       "instead (`incident`).")
    p.add_argument("--release", type=int, required=True)
    p.add_argument("--severity", required=True, choices=SEVERITIES)
    p.add_argument("--category", required=True, choices=CATEGORIES)
    p.add_argument("--description", required=True)
    p.add_argument("--evidence", action="append", default=[],
                   help="sha256:<hex> of a piece of evidence (repeat)")
    p.add_argument("--source", type=int, help="the monitoring source's id")
    p.add_argument("--detected-at", help="ISO 8601 (default: now)")
    p.set_defaults(run=cmd_incident_report)
