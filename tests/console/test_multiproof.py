"""The console's page-wide inclusion check (a multiproof) against RFC 9162 hashing: the
nodes it fetches up front are exactly those it reads, and the root it rebuilds is the
tree's root only when every given leaf is the tree's own."""

from __future__ import annotations

import random

import pytest

from govflow.console.integrity import _nodes_needed, _root_over
from govflow.trust import merkle


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 64, 100, 257])
def test_the_nodes_fetched_first_are_the_nodes_read(size):
    rng = random.Random(size)
    leaves = [merkle.leaf_hash(f"event {i}".encode()) for i in range(size)]
    nodes = merkle.build_perfect_nodes(leaves)
    root = merkle.root_from_leaf_hashes(leaves)
    for _ in range(20):
        picked = rng.sample(range(size), rng.randint(1, min(size, 40)))
        known = {i: leaves[i] for i in picked}
        read: list[tuple[int, int]] = []

        def lookup(level: int, index: int, read=read) -> bytes:
            read.append((level, index))
            return nodes[(level, index)]

        assert _root_over(known, size, lookup) == root
        assert set(_nodes_needed(picked, size)) == set(read)
        # a single wrong leaf changes the root
        wrong = {**known, picked[0]: merkle.leaf_hash(b"not the logged event")}
        assert _root_over(wrong, size, lambda level, index: nodes[(level, index)]) != root
