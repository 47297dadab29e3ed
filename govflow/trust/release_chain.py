"""Per-release completeness: a hash chain over each release's leaves, in log order.

The sequencer folds every leaf that belongs to a release into that release's chain,
and each checkpoint's last leaf is a `log.release_heads` event stating every release's
(count, head) and naming the previous heads event. A bundle for one release recomputes
the chain over the events it holds and compares it with every heads event since the
release opened: a missing event, the newest included, changes the count and the head.

Standard library only: the sequencer (server) and the offline verifier both use it, so
they fold byte-identical chains.
"""

from __future__ import annotations

from hashlib import sha256

HEADS_EVENT = "log.release_heads"
# The head of a release with no event yet. A domain prefix keeps a chain step from
# ever equalling a Merkle leaf or node hash over the same bytes.
GENESIS = b"\0" * 32
_STEP = b"govflow/release-chain/v1\n"


def chain_step(head: bytes, leaf_hash: bytes) -> bytes:
    return sha256(_STEP + head + leaf_hash).digest()


def release_of(canonical: str) -> int | None:
    """The top-level "release" of an event's canonical JSON, without parsing it.

    Keys are sorted, and after "release" come only "subject" ({"id": str, "type":
    label}), "type", "uuid" and "v", none of which can hold the text '"release":', so
    the last occurrence is the top-level one (a payload may nest its own "release").
    """
    at = canonical.rfind('"release":')
    if at < 0:
        return None
    start = at + 10
    end = start
    while end < len(canonical) and canonical[end] in "-0123456789":
        end += 1
    return int(canonical[start:end]) if end > start else None
