"""RFC 9162 (RFC 6962) Merkle tree: hashing, proof generation, proof verification.

Standard library only: this module is shared by the server, the stdlib-only client and the
offline verifier a regulator runs, so all three compute byte-identical roots and proofs.

Terminology used below:

- *leaf hash*: ``SHA-256(0x00 || data)`` (RFC 9162 §2.1.1, domain separation from nodes).
- *perfect node* ``(level, i)``: the hash of the perfect subtree over leaves
  ``[i * 2**level, (i + 1) * 2**level)``; level 0 are the leaf hashes. Every node of an RFC 9162
  tree of any size is either a perfect node or a right-leaning composition of perfect nodes, so a
  store of perfect nodes (which never change once written, because the log is append-only) is
  enough to answer every proof in O(log n) lookups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from hashlib import sha256
from itertools import islice

HASH_SIZE = 32
# RFC 9162 §2.1.1: the hash of an empty list is the hash of the empty string.
EMPTY_ROOT = sha256(b"").digest()

NodeLookup = Callable[[int, int], bytes]
"""``node(level, i)`` -> hash of the perfect subtree over ``[i << level, (i + 1) << level)``."""


class ProofError(ValueError):
    """A proof, hash or tree size is malformed or does not verify."""


def leaf_hash(data: bytes) -> bytes:
    return sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right).digest()


def _largest_pow2_below(n: int) -> int:
    # RFC 9162 §2.1.1: k is the largest power of two smaller than n (n > 1).
    return 1 << ((n - 1).bit_length() - 1)


def _pair_level(level: list[bytes]) -> list[bytes]:
    # Hot loop: bind sha256 locally and hash adjacent pairs with one comprehension.
    h = sha256
    it = iter(level)
    return [h(b"\x01" + a + b).digest() for a, b in zip(it, it, strict=False)]


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """Merkle Tree Hash (RFC 9162 §2.1.1) of a list of leaf hashes.

    Computed level by level: hashing adjacent pairs and carrying an odd last node up unchanged
    yields exactly the RFC's "split at the largest power of two" tree.
    """
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    if set(map(len, level)) != {HASH_SIZE}:
        raise ValueError("leaf hash must be 32 bytes")
    while len(level) > 1:
        nxt = _pair_level(level)
        if len(level) & 1:
            nxt.append(level[-1])
        level = nxt
    return level[0]


class TreeBuilder:
    """Streaming root computation over a compact range (one perfect node per set bit of size).

    Memory is O(log n). ``extend`` hashes aligned chunks of 1024 leaves level by level, which
    keeps per-leaf Python overhead close to that of bare ``hashlib`` calls.
    """

    __slots__ = ("_stack", "_size")
    _CHUNK_BITS = 10

    def __init__(self) -> None:
        # _stack[j] is the perfect node for the j-th set bit of _size, from the highest bit down.
        self._stack: list[bytes] = []
        self._size = 0

    @property
    def size(self) -> int:
        return self._size

    @classmethod
    def from_nodes(cls, size: int, node: NodeLookup) -> TreeBuilder:
        """Resume from a perfect-node store at ``size`` leaves (e.g. after a server restart)."""
        if size < 0:
            raise ValueError("tree size must be >= 0")
        builder = cls()
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                builder._stack.append(node(level, start >> level))
                start += 1 << level
        builder._size = size
        return builder

    def _push(self, h: bytes, level: int) -> None:
        # The size is a multiple of 2**level here; merge while the incoming node has a left
        # sibling of the same level on the stack (the binary carry of size + 2**level).
        stack = self._stack
        n = self._size >> level
        while n & 1:
            h = sha256(b"\x01" + stack.pop() + h).digest()
            n >>= 1
        stack.append(h)
        self._size += 1 << level

    def append(self, leaf_hash: bytes) -> None:
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError("leaf hash must be 32 bytes")
        stack = self._stack
        h = leaf_hash
        n = self._size
        while n & 1:
            h = sha256(b"\x01" + stack.pop() + h).digest()
            n >>= 1
        stack.append(h)
        self._size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        it = iter(leaf_hashes)
        bits = self._CHUNK_BITS
        chunk_size = 1 << bits
        # Per-leaf appends until the size is chunk-aligned, so each chunk is a perfect node.
        for h in islice(it, -self._size % chunk_size):
            self.append(h)
        pair = _pair_level
        while True:
            chunk = list(islice(it, chunk_size))
            if len(chunk) < chunk_size:
                for h in chunk:
                    self.append(h)
                return
            if set(map(len, chunk)) != {HASH_SIZE}:
                raise ValueError("leaf hash must be 32 bytes")
            for _ in range(bits):
                chunk = pair(chunk)
            self._push(chunk[0], bits)

    def root(self) -> bytes:
        stack = self._stack
        if not stack:
            return EMPTY_ROOT
        r = stack[-1]
        for left in reversed(stack[:-1]):
            r = sha256(b"\x01" + left + r).digest()
        return r


# --- Perfect-node store: server-side integration and proof generation (RFC 9162 §2.1.3.1,
# --- §2.1.4.1). Generation raises ValueError on bad arguments: it runs on trusted sizes.


def perfect_nodes_completed(
    index: int, leaf_hash: bytes, get: NodeLookup
) -> list[tuple[int, int, bytes]]:
    """The perfect nodes ``(level, i, hash)`` that appending ``leaf_hash`` at ``index`` completes.

    Always includes the leaf itself ``(0, index, leaf_hash)``; then one node per trailing 1-bit
    of ``index``, each needing one lookup of its (already stored) left sibling.
    """
    if index < 0 or len(leaf_hash) != HASH_SIZE:
        raise ValueError("bad index or leaf hash")
    out = [(0, index, leaf_hash)]
    h, level, i = leaf_hash, 0, index
    while i & 1:
        h = node_hash(get(level, i - 1), h)
        level += 1
        i >>= 1
        out.append((level, i, h))
    return out


def build_perfect_nodes(leaf_hashes: Sequence[bytes]) -> dict[tuple[int, int], bytes]:
    """Every perfect node over ``leaf_hashes`` as ``{(level, i): hash}`` (tests, tools)."""
    nodes: dict[tuple[int, int], bytes] = {}
    level_hashes = list(leaf_hashes)
    level = 0
    while level_hashes:
        nodes.update(((level, i), h) for i, h in enumerate(level_hashes))
        level_hashes = _pair_level(level_hashes)  # an odd last node has no perfect parent
        level += 1
    return nodes


def subtree_hash(start: int, end: int, node: NodeLookup) -> bytes:
    """MTH(D[start:end]) per RFC 9162 §2.1.1, composed from perfect nodes.

    For ranges that are nodes of some tree (``start`` a multiple of a power of two >= the range
    length, which covers every node used in proofs) this takes one lookup per set bit of the
    length. Other ranges are still computed correctly, recursing down to smaller perfect nodes.
    """
    if not 0 <= start < end:
        raise ValueError("subtree range must be non-empty")
    n = end - start
    if n & (n - 1) == 0 and start % n == 0:
        level = n.bit_length() - 1
        return node(level, start >> level)
    k = _largest_pow2_below(n)
    return node_hash(subtree_hash(start, start + k, node), subtree_hash(start + k, end, node))


def tree_root(size: int, node: NodeLookup) -> bytes:
    if size < 0:
        raise ValueError("tree size must be >= 0")
    return subtree_hash(0, size, node) if size else EMPTY_ROOT


def inclusion_proof(index: int, size: int, node: NodeLookup) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1, ordered leaf to root."""
    if not 0 <= index < size:
        raise ValueError("need 0 <= index < size")
    path: list[bytes] = []
    lo, hi = 0, size
    # Walk from the root down; the RFC's recursion appends each sibling after the deeper part
    # of the path, so the collected siblings are reversed at the end.
    while hi - lo > 1:
        k = _largest_pow2_below(hi - lo)
        if index < lo + k:
            path.append(subtree_hash(lo + k, hi, node))
            hi = lo + k
        else:
            path.append(subtree_hash(lo, lo + k, node))
            lo += k
    path.reverse()
    return path


def consistency_proof(size1: int, size2: int, node: NodeLookup) -> list[bytes]:
    """PROOF(size1, D[size2]) of RFC 9162 §2.1.4.1; empty when the sizes are equal."""
    if not 0 < size1 <= size2:
        raise ValueError("need 0 < size1 <= size2")
    path: list[bytes] = []
    lo, hi = 0, size2
    complete = True  # the RFC's flag b: is the old tree a complete subtree of this range?
    while hi != size1:
        k = _largest_pow2_below(hi - lo)
        if size1 <= lo + k:
            path.append(subtree_hash(lo + k, hi, node))
            hi = lo + k
        else:
            path.append(subtree_hash(lo, lo + k, node))
            lo += k
            complete = False
    if not complete:
        path.append(subtree_hash(lo, hi, node))
    path.reverse()
    return path


# --- Verification (RFC 9162 §2.1.3.2, §2.1.4.2). The verify_* functions take untrusted input
# --- and never raise; the root_from_* helpers raise ProofError with the reason.


def _hash_arg(value: object, what: str) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        b = bytes(value)
        if len(b) == HASH_SIZE:
            return b
    raise ProofError(f"{what} must be {HASH_SIZE} bytes")


def _size_arg(value: object, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return int(value)
    raise ProofError(f"{what} must be a non-negative integer")


def _proof_arg(proof: object) -> list[bytes]:
    if not isinstance(proof, (list, tuple)):
        raise ProofError("proof must be a list of hashes")
    return [_hash_arg(p, "proof element") for p in proof]


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """The root implied by an inclusion proof; compare it with a trusted root."""
    fn = _size_arg(index, "leaf index")
    sn = _size_arg(size, "tree size")
    r = _hash_arg(leaf_hash, "leaf hash")
    path = _proof_arg(proof)
    if fn >= sn:
        raise ProofError("leaf index is outside the tree")
    sn -= 1
    for p in path:
        if sn == 0:
            raise ProofError("proof is too long")
        if fn & 1 or fn == sn:
            r = sha256(b"\x01" + p + r).digest()
            # Skip the levels where this node has no right sibling (right edge of the tree).
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof is too short")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    try:
        expected = _hash_arg(root, "root")
        return root_from_inclusion_proof(leaf_hash, index, size, proof) == expected
    except ProofError:
        return False


def root_from_consistency_proof(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes
) -> bytes:
    """The root at ``size2`` implied by a consistency proof from a trusted ``root1``.

    Raises ProofError unless the proof also reproduces ``root1``. A proof from size 0 is refused:
    it would prove nothing, and a client that asks for one has a bug worth surfacing.
    """
    m = _size_arg(size1, "size1")
    n = _size_arg(size2, "size2")
    old = _hash_arg(root1, "root1")
    path = _proof_arg(proof)
    if m == 0:
        raise ProofError("consistency from an empty tree proves nothing")
    if m > n:
        raise ProofError("size1 is larger than size2")
    if m == n:
        if path:
            raise ProofError("proof must be empty when the sizes are equal")
        return old
    if not path:
        raise ProofError("proof is empty")
    # RFC 9162 §2.1.4.2 step 2: the old root is the first node when it is a perfect subtree.
    if m & (m - 1) == 0:
        path.insert(0, old)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in islice(path, 1, None):
        if sn == 0:
            raise ProofError("proof is too long")
        if fn & 1 or fn == sn:
            fr = sha256(b"\x01" + c + fr).digest()
            sr = sha256(b"\x01" + c + sr).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof is too short")
    if fr != old:
        raise ProofError("proof does not match root1")
    return sr


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> bool:
    try:
        m = _size_arg(size1, "size1")
        n = _size_arg(size2, "size2")
        if m == n and m != 0:
            # Equal sizes: nothing is hashed, so the roots are compared as given (the shared
            # transparency-dev vectors accept equal non-32-byte roots here).
            if not isinstance(proof, (list, tuple)) or proof:
                return False
            bytes_like = (bytes, bytearray, memoryview)
            if not (isinstance(root1, bytes_like) and isinstance(root2, bytes_like)):
                return False
            return bytes(root1) == bytes(root2)
        expected = _hash_arg(root2, "root2")
        return root_from_consistency_proof(m, n, proof, root1) == expected
    except ProofError:
        return False
