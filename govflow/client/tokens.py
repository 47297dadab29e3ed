"""Client commands for your own API tokens: list them, create one, revoke one.

A token's secret is printed once, when it is created (the server keeps only its hash).
A token created while calling with a token expires no later than that one, and is
revoked with it: revoke a leaked token and whatever was made with it goes too.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from govflow.client.remote import Api


def token_list(api: Api) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        body = api.get("tokens", page=page)
        rows += body["results"]
        if not body.get("next"):
            return rows
        page += 1


def token_create(api: Api, *, name: str, ttl_days: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name}
    if ttl_days is not None:
        body["ttl_days"] = ttl_days
    return api.post("tokens", body)


def token_revoke(api: Api, *, token_id: int) -> dict[str, Any]:
    return api.post(f"tokens/{token_id}/revoke")


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


def register(sub, server: argparse.ArgumentParser) -> None:
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
