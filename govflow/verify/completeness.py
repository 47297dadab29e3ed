"""Per-release completeness: the bundle holds every event of its release.

Each checkpoint's last leaf is a `log.release_heads` event (govflow.trust.release_chain)
stating, for every release, how many events it has in the tree before it and the hash
chain over their leaves; each heads event names the one before it. A per-release bundle
carries the heads events back to one that predates the release (or to the first), and
the verifier refolds the chain over the events it was given: a deleted event, the newest
included, shows up as a count and a head that differ from what a signed checkpoint says.
A full export is checked the same way at every heads event, for every release.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

from govflow.trust.release_chain import GENESIS, HEADS_EVENT, chain_step, release_of
from govflow.verify.report import Report, VerificationFailed


def _heads_payload(row: dict[str, Any]) -> dict[str, Any]:
    body = json.loads(row["canonical"])
    if body.get("type") != HEADS_EVENT:
        raise VerificationFailed(
            f"event #{row['index']} is not a release-heads event ({body.get('type')})"
        )
    payload = body["payload"]
    if payload.get("size") != row["index"]:
        raise VerificationFailed(
            f"release-heads event #{row['index']} claims to cover {payload.get('size')} events"
        )
    return cast(dict[str, Any], payload)


def _fold(rows: list[dict[str, Any]], release: int | None
          ) -> Iterator[tuple[dict[str, Any], dict[int, tuple[int, bytes]]]]:
    """Yield (row, {release: (count, head)} over the rows before it) for every row."""
    state: dict[int, tuple[int, bytes]] = {}
    for row in rows:
        yield row, state
        owner = release_of(row["canonical"])
        if owner is None or (release is not None and owner != release):
            continue
        count, head = state.get(owner, (0, GENESIS))
        state[owner] = (count + 1, chain_step(head, bytes.fromhex(row["leaf_hash"])))


def _entries(payload: dict[str, Any]) -> dict[int, tuple[int, str]]:
    return {e["release"]: (e["count"], e["head"]) for e in payload["heads"]}


def check(bundle: dict[str, Any], checkpoints: list[Any], report: Report) -> None:
    rows = bundle["events"]
    latest = checkpoints[-1][0]
    if bundle["scope"].get("all"):
        _check_all(rows, report)
    else:
        _check_release(rows, bundle["scope"]["release"], latest, report)


def _check_all(rows: list[dict[str, Any]], report: Report) -> None:
    previous: dict[str, Any] | None = None
    seen = 0
    for row, state in _fold(rows, None):
        # The substring test first: it is cheap, and all but a few rows fail it.
        if HEADS_EVENT not in row["canonical"] or release_of(row["canonical"]) is not None:
            continue
        if json.loads(row["canonical"]).get("type") != HEADS_EVENT:
            continue
        payload = _heads_payload(row)
        expected_previous = previous and {"index": previous["index"],
                                          "leaf_hash": previous["leaf_hash"]}
        if payload["previous"] != expected_previous:
            raise VerificationFailed(
                f"release-heads event #{row['index']} names {payload['previous']} as the one "
                f"before it, the log has {expected_previous}"
            )
        computed = {r: (c, h.hex()) for r, (c, h) in state.items()}
        if _entries(payload) != computed:
            wrong = sorted(set(_entries(payload).items()) ^ set(computed.items()))[:1]
            raise VerificationFailed(
                f"release-heads event #{row['index']} does not match the releases' events "
                f"before it (first difference at release {wrong[0][0]})"
            )
        previous = row
        seen += 1
    report.ok(f"{seen} release-heads commitment(s) match every release's events")


def _check_release(rows: list[dict[str, Any]], release: int, latest: int,
                   report: Report) -> None:
    by_index = {row["index"]: row for row in rows}
    states = {row["index"]: dict(state) for row, state in _fold(rows, release)
              if HEADS_EVENT in row["canonical"]}
    at = latest - 1
    if at not in by_index or HEADS_EVENT not in by_index[at]["canonical"]:
        raise VerificationFailed(
            f"checkpoint {latest} does not end with a release-heads event in the bundle: "
            f"nothing proves the bundle holds every event of release {release}"
        )
    walked = 0
    expected_leaf = by_index[at]["leaf_hash"]
    while True:
        row = by_index.get(at)
        if row is None or row["leaf_hash"] != expected_leaf:
            raise VerificationFailed(
                f"the bundle lacks release-heads event #{at}, which the chain of heads names"
            )
        payload = _heads_payload(row)
        count, head = states[at].get(release, (0, GENESIS))
        logged = _entries(payload).get(release)
        walked += 1
        if logged is None:
            if count:
                raise VerificationFailed(
                    f"release-heads event #{at} lists no event of release {release}, but the "
                    f"bundle holds {count} from before it"
                )
            break
        if logged != (count, head.hex()):
            raise VerificationFailed(
                f"events of release {release} are missing: release-heads event #{at} (signed "
                f"into the log) commits to {logged[0]} event(s) before it, the bundle holds "
                f"{count}" + ("" if logged[0] != count else " with a different chain")
            )
        if payload["previous"] is None:
            break
        at, expected_leaf = payload["previous"]["index"], payload["previous"]["leaf_hash"]
    held = sum(1 for r in rows if release_of(r["canonical"]) == release)
    report.ok(f"release {release}: all {held} of its events are in the bundle "
              f"(checked against {walked} release-heads commitment(s))")
