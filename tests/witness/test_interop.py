"""Interoperability: a client written from the C2SP texts alone drives the witness process.

Nothing here imports govflow's note, checkpoint, cosignature or Merkle code: the signed note,
the key IDs, the RFC 6962 tree and consistency proofs, the add-checkpoint request and the
cosignature check are re-derived below from c2sp.org/signed-note, tlog-checkpoint,
tlog-witness, tlog-cosignature and RFC 6962 §2.1, so a shared misreading of a spec cannot
make both sides agree.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tests.witness.support import WitnessProcess, new_witness_key

ORIGIN = "interop.example/log"
EM_DASH = "\u2014"


def raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_hash(name: str, alg: int, key: bytes) -> bytes:
    # signed-note: SHA-256(name || 0x0A || type || public key)[:4]
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + key).digest()[:4]


# --- RFC 6962 §2.1 -------------------------------------------------------------------------

def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def proof(m: int, leaves: list[bytes]) -> list[bytes]:
    return subproof(m, leaves, True) if 0 < m < len(leaves) else []


# --- signed note / checkpoint / add-checkpoint -------------------------------------------

def signed_checkpoint(key: Ed25519PrivateKey, leaves: list[bytes]) -> tuple[str, str]:
    text = f"{ORIGIN}\n{len(leaves)}\n{base64.b64encode(mth(leaves)).decode()}\n"
    sig = key_hash(ORIGIN, 0x01, raw(key.public_key())) + key.sign(text.encode())
    return text, text + "\n" + f"{EM_DASH} {ORIGIN} {base64.b64encode(sig).decode()}\n"


def add_checkpoint(port: int, old: int, hashes: list[bytes], note: str):
    body = f"old {old}\n" + "".join(base64.b64encode(h).decode() + "\n" for h in hashes)
    body += "\n" + note
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/add-checkpoint", body=body.encode())
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type"), response.read().decode()
    finally:
        conn.close()


def check_cosignature(line: str, witness_vkey: str, note_text: str) -> int:
    """Verify one cosignature/v1 line; return its timestamp."""
    name, key_id_hex, material = witness_vkey.split("+", 2)
    key = base64.b64decode(material)
    assert key[0] == 0x04  # tlog-cosignature vkey type for Ed25519
    assert key_hash(name, 0x04, key[1:]).hex() == key_id_hex
    dash, signer, b64 = line.rstrip("\n").split(" ")
    assert (dash, signer) == (EM_DASH, name)
    blob = base64.b64decode(b64)
    assert len(blob) == 4 + 8 + 64
    assert blob[:4].hex() == key_id_hex
    timestamp = int.from_bytes(blob[4:12], "big")
    message = f"cosignature/v1\ntime {timestamp}\n{note_text}".encode()
    Ed25519PublicKey.from_public_bytes(key[1:]).verify(blob[12:], message)  # raises if bad
    return timestamp


@pytest.fixture
def log_key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def witness(tmp_path, log_key):
    vkey = f"{ORIGIN}+{key_hash(ORIGIN, 0x01, raw(log_key.public_key())).hex()}+" + \
        base64.b64encode(b"\x01" + raw(log_key.public_key())).decode()
    key = new_witness_key(tmp_path)
    process = WitnessProcess(state=tmp_path / "state", key=key, log_vkeys=[vkey])
    yield process
    process.stop()


def witness_vkey(process) -> str:
    import json

    conn = http.client.HTTPConnection("127.0.0.1", process.port, timeout=10)
    conn.request("GET", "/")
    return json.loads(conn.getresponse().read())["witness"]


def test_an_independent_client_gets_cosignatures_that_verify(witness, log_key):
    # given
    leaves = [f"leaf {i}".encode() for i in range(13)]
    vkey = witness_vkey(witness)
    # when: the first checkpoint (old 0, no proof), then a consistent extension
    text7, note7 = signed_checkpoint(log_key, leaves[:7])
    first = add_checkpoint(witness.port, 0, [], note7)
    text13, note13 = signed_checkpoint(log_key, leaves)
    second = add_checkpoint(witness.port, 7, proof(7, leaves), note13)
    # then
    assert first[0] == 200
    assert second[0] == 200
    now = time.time()
    for (_, _, body), text in ((first, text7), (second, text13)):
        timestamp = check_cosignature(body, vkey, text)
        assert now - 60 < timestamp <= now + 1


def test_an_independent_client_sees_409_with_the_known_size(witness, log_key):
    leaves = [f"leaf {i}".encode() for i in range(4)]
    assert add_checkpoint(witness.port, 0, [], signed_checkpoint(log_key, leaves)[1])[0] == 200
    leaves.append(b"leaf 4")
    status, content_type, body = add_checkpoint(
        witness.port, 0, [], signed_checkpoint(log_key, leaves)[1]
    )
    assert (status, content_type, body) == (409, "text/x.tlog.size", "4\n")


def test_an_independent_client_sees_422_for_a_rewritten_history(witness, log_key):
    leaves = [f"leaf {i}".encode() for i in range(4)]
    assert add_checkpoint(witness.port, 0, [], signed_checkpoint(log_key, leaves)[1])[0] == 200
    rewritten = [b"leaf 0", b"leaf X", b"leaf 2", b"leaf 3", b"leaf 4"]
    status, _, _ = add_checkpoint(
        witness.port, 4, proof(4, rewritten), signed_checkpoint(log_key, rewritten)[1]
    )
    assert status == 422
