"""C2SP signed notes and tlog checkpoints."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from govflow.trust import keys, merkle
from govflow.trust.note import (
    Checkpoint,
    NoteError,
    NoteVerificationError,
    cosign_note,
    key_id,
    make_verifier_key,
    open_checkpoint,
    open_note,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_for,
)

# Known-answer vector from golang.org/x/mod/sumdb/note (package docs and note_test.go): an
# independent implementation's key, text and signature.
GO_SIGNER_SEED_B64 = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"  # 0x01 || seed
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
LOG = "govflow.example/audit-log"


@pytest.fixture
def log_key():
    return keys.generate_private_key()


@pytest.fixture
def log_verifier(log_key):
    return verifier_for(LOG, log_key.public_key())


def test_go_sumdb_note_vector_verifies_and_is_reproduced():
    seed = base64.b64decode(GO_SIGNER_SEED_B64)[1:]
    private = Ed25519PrivateKey.from_private_bytes(seed)
    verifier = parse_verifier_key(GO_VERIFIER_KEY)

    body, signatures = open_note(GO_NOTE, [verifier])

    assert body == GO_TEXT
    assert [(s.name, f"{s.key_id:08x}") for s in signatures] == [("PeterNeumann", "c74f20a3")]
    assert make_verifier_key("PeterNeumann", private.public_key()) == GO_VERIFIER_KEY
    assert sign_note(GO_TEXT, "PeterNeumann", private) == GO_NOTE  # Ed25519 is deterministic


def test_checkpoint_round_trip(log_key, log_verifier):
    root = merkle.root_from_leaf_hashes([merkle.leaf_hash(b"event")])
    checkpoint = Checkpoint(LOG, 1, root, extensions=("policy v3",))

    signed = sign_checkpoint(checkpoint, LOG, log_key)
    opened, signatures = open_checkpoint(signed, [log_verifier], origin=LOG)

    assert opened == checkpoint
    assert signed.startswith(f"{LOG}\n1\n{base64.b64encode(root).decode()}\npolicy v3\n\n\u2014 ")
    assert [s.name for s in signatures] == [LOG]


def test_verifier_key_whose_base64_contains_plus_parses():
    # From transparency-dev/formats note tests: the key material itself contains a '+'.
    verifier = parse_verifier_key("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6")

    assert (verifier.name, verifier.key_id) == ("TEST", 0x7997405C)


def test_verifier_key_string_round_trips(log_key):
    vkey = make_verifier_key(LOG, log_key.public_key())

    verifier = parse_verifier_key(vkey)

    assert verifier.name == LOG
    assert verifier.key_id == key_id(LOG, log_key.public_key())
    assert vkey.split("+")[1] == f"{verifier.key_id:08x}"


def _with(vkey: str, *, name=None, hex_id=None, b64=None) -> str:
    # Split on the first two '+' only, as the key material may contain '+'.
    n, _, rest = vkey.partition("+")
    h, _, k = rest.partition("+")
    return f"{name if name is not None else n}+{hex_id or h}+{b64 or k}"


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda k: k.partition("+")[0], "must look like"),
        (lambda k: k.partition("+")[0] + "+c74f20a3", "must look like"),
        (lambda k: k + "+extra", "not valid base64"),
        (lambda k: _with(k, name="bad name"), "invalid key name"),
        (lambda k: _with(k, name=""), "invalid key name"),
        (lambda k: _with(k, hex_id="0000000g"), "8 lowercase hex"),
        (lambda k: _with(k, hex_id="C74F20A3"), "8 lowercase hex"),
        (lambda k: _with(k, hex_id="00000000"), "does not match"),
        (lambda k: _with(k, name="PeterNeumann2"), "does not match"),
        (lambda k: _with(k, b64="!!!!"), "not valid base64"),
        (lambda k: _with(k, b64=base64.b64encode(b"\x02" + b"k" * 32).decode()), "not an Ed25519"),
        (lambda k: _with(k, b64=base64.b64encode(b"\x01" + b"k" * 31).decode()), "not an Ed25519"),
    ],
)
def test_malformed_verifier_keys_are_refused(mangle, message):
    with pytest.raises(NoteError, match=message):
        parse_verifier_key(mangle(GO_VERIFIER_KEY))


def test_unknown_signers_are_ignored_but_one_known_signature_is_required(log_key, log_verifier):
    witness = keys.generate_private_key()
    signed = cosign_note(sign_note("text\n", LOG, log_key), "witness.example", witness)

    body, signatures = open_note(signed, [log_verifier])
    assert body == "text\n"
    assert [s.name for s in signatures] == [LOG]

    body, signatures = open_note(
        signed, [log_verifier, verifier_for("witness.example", witness.public_key())]
    )
    assert [s.name for s in signatures] == [LOG, "witness.example"]

    with pytest.raises(NoteVerificationError, match="no signature from a known key"):
        open_note(signed, [verifier_for("someone.else", witness.public_key())])


def test_same_name_with_another_key_is_an_unknown_signer(log_key, log_verifier):
    # signed-note: a key matching by name but not ID (or vice versa) is unknown, not invalid.
    impostor = keys.generate_private_key()
    signed = sign_note("text\n", LOG, impostor)

    with pytest.raises(NoteVerificationError, match="no signature from a known key"):
        open_note(signed, [log_verifier])


def test_bad_signature_from_a_known_key_rejects_the_note(log_key, log_verifier):
    signed = sign_note("size 10\n", LOG, log_key)
    forged = signed.replace("size 10\n", "size 99\n", 1)
    line = signed.rsplit("\n", 2)[-2]
    blob = bytearray(base64.b64decode(line.split(" ")[-1]))
    blob[10] ^= 1
    flipped = signed.replace(line.split(" ")[-1], base64.b64encode(bytes(blob)).decode())

    for text in (forged, flipped):
        with pytest.raises(NoteVerificationError, match="invalid signature"):
            open_note(text, [log_verifier])


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda n: n.replace("\n\n", "\n"), "no blank line"),
        (lambda n: n[:-1], "does not end with a newline"),
        (lambda n: n.split("\n\n")[0] + "\n\n", "no signature lines"),
        (lambda n: n.replace("\u2014", "-"), "malformed signature line"),
        (lambda n: n.replace("\u2014 " + LOG + " ", "\u2014 " + LOG), "malformed signature line"),
        (lambda n: n.replace("\u2014 " + LOG, "\u2014 a+b"), "invalid key name"),
        (lambda n: n[:-3] + "!=\n", "not valid base64"),
        (lambda n: n.rsplit(" ", 1)[0] + " AAAA\n", "too short"),
        (lambda n: n + n.rsplit("\n", 2)[-2] + "\n", "duplicate signature"),
        (lambda n: "text\r\n" + n[5:], "control character"),
        (lambda n: n.replace("text", "te\udcffxt"), "not valid Unicode"),
        (lambda n: b"bytes", "must be text"),
    ],
)
def test_malformed_notes_are_refused(log_key, log_verifier, mangle, message):
    signed = sign_note("text\n", LOG, log_key)

    with pytest.raises(NoteError, match=message):
        open_note(mangle(signed), [log_verifier])


def test_note_text_may_contain_blank_lines(log_key, log_verifier):
    text = "para one\n\npara two\n"

    assert open_note(sign_note(text, LOG, log_key), [log_verifier])[0] == text


def test_sign_note_refuses_text_it_could_not_open(log_key):
    with pytest.raises(NoteError, match="end with a newline"):
        sign_note("no newline", LOG, log_key)
    with pytest.raises(NoteError, match="control character"):
        sign_note("tab\there\n", LOG, log_key)
    with pytest.raises(NoteError, match="invalid key name"):
        sign_note("text\n", "has space", log_key)


ROOT_B64 = base64.b64encode(merkle.EMPTY_ROOT).decode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"{LOG}\n0\n{ROOT_B64}", "end with a newline"),
        (f"{LOG}\n0\n", "needs origin, size and root"),
        (f"\n0\n{ROOT_B64}\n", "none empty"),
        (f"{LOG}\n0\n{ROOT_B64}\n\next\n", "none empty"),
        (f"{LOG}\n01\n{ROOT_B64}\n", "not a decimal uint64"),
        (f"{LOG}\n-1\n{ROOT_B64}\n", "not a decimal uint64"),
        (f"{LOG}\n\u0661\n{ROOT_B64}\n", "not a decimal uint64"),  # Arabic-Indic digit one
        (f"{LOG}\n{2**64}\n{ROOT_B64}\n", "not a decimal uint64"),
        (f"{LOG}\n1\n{ROOT_B64[:-2]}\n", "not valid base64"),
        (f"{LOG}\n1\n{base64.b64encode(b'x' * 31).decode()}\n", "canonical base64 of 32"),
    ],
)
def test_malformed_checkpoints_are_refused(body, message):
    with pytest.raises(NoteError, match=message):
        Checkpoint.parse(body)


def test_checkpoint_fields_are_validated():
    with pytest.raises(NoteError, match="origin"):
        Checkpoint("", 0, merkle.EMPTY_ROOT)
    with pytest.raises(NoteError, match="size"):
        Checkpoint(LOG, -1, merkle.EMPTY_ROOT)
    with pytest.raises(NoteError, match="32 bytes"):
        Checkpoint(LOG, 0, b"short")
    with pytest.raises(NoteError, match="extension"):
        Checkpoint(LOG, 0, merkle.EMPTY_ROOT, extensions=("two\nlines",))


def test_checkpoint_from_another_log_is_refused(log_key, log_verifier):
    signed = sign_checkpoint(Checkpoint(LOG, 0, merkle.EMPTY_ROOT), LOG, log_key)

    with pytest.raises(NoteVerificationError, match="not 'other.example/log'"):
        open_checkpoint(signed, [log_verifier], origin="other.example/log")
