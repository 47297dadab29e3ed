"""Merkle tree properties against a literal transcription of RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1."""

from __future__ import annotations

import random

import pytest

from govflow.trust import merkle

RNG_SEED = 9162
SAMPLED_SIZES = sorted({*range(1, 70), *random.Random(RNG_SEED).sample(range(70, 301), 25), 256})


# --- Reference definitions, written exactly as the RFC's recursive pseudo-definitions. ---


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return merkle.EMPTY_ROOT
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return merkle.node_hash(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def leaves(n: int, salt: int = 0) -> list[bytes]:
    return [merkle.leaf_hash(f"entry {salt}/{i}".encode()) for i in range(n)]


def lookup(hashes: list[bytes]):
    nodes = merkle.build_perfect_nodes(hashes)
    return lambda level, i: nodes[level, i]


def flip_bit(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


# --- Hashing and roots ---


def test_leaf_and_node_hashes_are_domain_separated():
    # RFC 9162 §2.1.1 test leaf "" hashes to the well-known value.
    assert merkle.leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert merkle.EMPTY_ROOT.hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert merkle.node_hash(b"a" * 32, b"b" * 32) != merkle.leaf_hash(b"a" * 32 + b"b" * 32)


@pytest.mark.parametrize("size", [0, *range(1, 40), 255, 256, 257, 1023, 1024, 1025, 3000])
def test_every_root_computation_agrees_with_the_rfc_definition(size):
    hashes = leaves(size)
    expected = ref_mth(hashes)

    appended = merkle.TreeBuilder()
    for h in hashes:
        appended.append(h)
    extended = merkle.TreeBuilder()
    extended.extend(hashes[: size // 3])
    extended.extend(hashes[size // 3 :])

    assert merkle.root_from_leaf_hashes(hashes) == expected
    assert (appended.root(), appended.size) == (expected, size)
    assert (extended.root(), extended.size) == (expected, size)
    assert merkle.tree_root(size, lookup(hashes)) == expected


@pytest.mark.parametrize("split", [0, 1, 5, 1024, 1500, 2047])
def test_tree_builder_resumes_from_a_perfect_node_store(split):
    hashes = leaves(2600)
    builder = merkle.TreeBuilder.from_nodes(split, lookup(hashes[:split]))

    builder.extend(hashes[split:])

    assert builder.size == 2600
    assert builder.root() == ref_mth(hashes)


def test_tree_builder_rejects_a_leaf_hash_of_the_wrong_length():
    builder = merkle.TreeBuilder()
    with pytest.raises(ValueError, match="32 bytes"):
        builder.append(b"short")
    with pytest.raises(ValueError, match="32 bytes"):
        builder.extend([b"\x00" * 32] * 1023 + [b"short"] * 1024)


def test_appending_leaf_by_leaf_completes_exactly_the_perfect_nodes():
    hashes = leaves(300)
    store: dict[tuple[int, int], bytes] = {}
    for index, h in enumerate(hashes):
        for level, i, node in merkle.perfect_nodes_completed(index, h, lambda lv, i: store[lv, i]):
            assert (level, i) not in store  # each node is written once: append-only storage
            store[level, i] = node

    assert store == merkle.build_perfect_nodes(hashes)


def test_subtree_hash_handles_unaligned_ranges():
    hashes = leaves(64)
    node = lookup(hashes)
    for start in range(0, 64, 3):
        for end in range(start + 1, 65, 5):
            assert merkle.subtree_hash(start, end, node) == ref_mth(hashes[start:end])
    with pytest.raises(ValueError, match="non-empty"):
        merkle.subtree_hash(5, 5, node)


# --- Proofs: generation matches the RFC, verification accepts them and rejects mutations ---


@pytest.mark.parametrize("size", SAMPLED_SIZES)
def test_every_inclusion_proof_verifies_and_mutations_fail(size):
    hashes = leaves(size, salt=size)
    node = lookup(hashes)
    root = merkle.root_from_leaf_hashes(hashes)
    rng = random.Random(size)

    for index in range(size):
        proof = merkle.inclusion_proof(index, size, node)
        assert proof == ref_path(index, hashes)
        assert merkle.verify_inclusion(hashes[index], index, size, proof, root)

        if proof:
            j = rng.randrange(len(proof))
            bad = [*proof[:j], flip_bit(proof[j], rng.randrange(256)), *proof[j + 1 :]]
            assert not merkle.verify_inclusion(hashes[index], index, size, bad, root)
            assert not merkle.verify_inclusion(hashes[index], index, size, proof[:-1], root)
        assert not merkle.verify_inclusion(hashes[index], index, size, [*proof, root], root)
        assert not merkle.verify_inclusion(flip_bit(hashes[index], 3), index, size, proof, root)
        assert not merkle.verify_inclusion(hashes[index], index, size, proof, flip_bit(root, 0))
        # The tree size is not committed by the hashes (a proof may also fit a larger tree with
        # the same root), so size mutations are left to the vectors' size cases.
        if size > 1:
            other = (index + 1) % size
            assert not merkle.verify_inclusion(hashes[index], other, size, proof, root)


@pytest.mark.parametrize("size2", SAMPLED_SIZES)
def test_every_consistency_proof_verifies_and_mutations_fail(size2):
    hashes = leaves(size2, salt=size2)
    node = lookup(hashes)
    root2 = merkle.root_from_leaf_hashes(hashes)
    rng = random.Random(size2)

    for size1 in range(1, size2 + 1):
        root1 = merkle.root_from_leaf_hashes(hashes[:size1])
        proof = merkle.consistency_proof(size1, size2, node)
        assert proof == (ref_subproof(size1, hashes, True) if size1 < size2 else [])
        assert merkle.verify_consistency(size1, size2, proof, root1, root2)
        if size1 < size2:
            assert merkle.root_from_consistency_proof(size1, size2, proof, root1) == root2

        if proof:
            j = rng.randrange(len(proof))
            bad = [*proof[:j], flip_bit(proof[j], rng.randrange(256)), *proof[j + 1 :]]
            assert not merkle.verify_consistency(size1, size2, bad, root1, root2)
            assert not merkle.verify_consistency(size1, size2, proof[1:], root1, root2)
            assert not merkle.verify_consistency(size1, size2, proof, root2, root1)
        assert not merkle.verify_consistency(size1, size2, [*proof, root1], root1, root2)
        assert not merkle.verify_consistency(size1, size2, proof, flip_bit(root1, 9), root2)
        assert not merkle.verify_consistency(size1, size2, proof, root1, flip_bit(root2, 9))
        if size1 > 1:
            assert not merkle.verify_consistency(size1 - 1, size2, proof, root1, root2)


def test_proof_generation_refuses_impossible_requests():
    node = lookup(leaves(8))
    with pytest.raises(ValueError, match="index < size"):
        merkle.inclusion_proof(8, 8, node)
    with pytest.raises(ValueError, match="0 < size1"):
        merkle.consistency_proof(0, 8, node)
    with pytest.raises(ValueError, match="0 < size1"):
        merkle.consistency_proof(5, 4, node)


def test_proofs_at_a_million_leaves_use_logarithmically_many_lookups():
    # A fake store that hashes its coordinates: enough to count lookups without 2M entries.
    calls = []

    def node(level: int, i: int) -> bytes:
        calls.append((level, i))
        return merkle.leaf_hash(f"{level}/{i}".encode())

    merkle.inclusion_proof(123_456, 1_000_001, node)
    inclusion_lookups = len(calls)
    calls.clear()
    merkle.consistency_proof(333_333, 1_000_001, node)

    assert inclusion_lookups <= 2 * 20
    assert len(calls) <= 2 * 20


GARBAGE = [None, "", "x" * 32, 32, b"", b"\x00" * 31, b"\x00" * 33, [b"\x00" * 32], object()]


def test_verification_never_raises_on_garbage():
    h = merkle.leaf_hash(b"x")
    sizes = [None, -1, 0, 1, 2, True, 1.0, "1", 2**64, 2**200]
    proofs = [None, "", b"", [None], [1], [b"\x00" * 31], [h] * 70, (h,), {h}]
    for size in sizes:
        for index in sizes:
            for proof in proofs:
                for garbage in GARBAGE:
                    assert merkle.verify_inclusion(garbage, index, size, proof, h) is False
                    assert merkle.verify_inclusion(h, index, size, proof, garbage) is False
                    assert merkle.verify_consistency(index, size, proof, garbage, h) is False
                    assert merkle.verify_consistency(index, size, proof, h, garbage) is False
                assert merkle.verify_consistency(index, size, proof, h, h) in (True, False)
                assert merkle.verify_inclusion(h, index, size, proof, h) in (True, False)


def test_consistency_from_an_empty_tree_is_refused():
    # The shared vectors pin this down: it would prove nothing, so a client asking has a bug.
    assert not merkle.verify_consistency(0, 0, [], merkle.EMPTY_ROOT, merkle.EMPTY_ROOT)
    with pytest.raises(merkle.ProofError, match="empty tree"):
        merkle.root_from_consistency_proof(0, 3, [], merkle.EMPTY_ROOT)
