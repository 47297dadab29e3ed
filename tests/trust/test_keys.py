"""Ed25519 key parsing, ids and private key files."""

from __future__ import annotations

import base64
import hashlib
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from govflow.trust import keys


def test_pem_and_base64_forms_parse_to_the_same_key_and_id():
    private = keys.generate_private_key()
    public = private.public_key()

    from_pem = keys.parse_public_key(keys.public_key_to_pem(public))
    from_b64 = keys.parse_public_key(keys.public_key_to_base64(public) + "\n")
    from_bytes = keys.parse_public_key(keys.public_key_to_pem(public).encode())

    raw = keys.public_key_raw(public)
    expected_id = hashlib.sha256(raw).hexdigest()
    assert {keys.public_key_id(k) for k in (from_pem, from_b64, from_bytes)} == {expected_id}
    assert len(expected_id) == 64


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("not base64!", "neither PEM"),
        (base64.b64encode(b"\x01" * 31).decode(), "32 bytes, got 31"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "cannot read PEM"),
        (b"\xff\xfe", "ASCII"),
    ],
)
def test_malformed_public_keys_are_explained(text, message):
    with pytest.raises(keys.KeyFormatError, match=message):
        keys.parse_public_key(text)


def test_non_ed25519_and_private_keys_are_refused_as_public_keys():
    ec_public = ec.generate_private_key(ec.SECP256R1()).public_key()
    ec_pem = ec_public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    private_pem = keys.private_key_to_pem(keys.generate_private_key()).decode()

    with pytest.raises(keys.KeyFormatError, match="expected an Ed25519 key"):
        keys.parse_public_key(ec_pem)
    with pytest.raises(keys.KeyFormatError, match="PRIVATE key"):
        keys.parse_public_key(private_pem)


def test_private_key_file_round_trip_is_owner_only(tmp_path):
    private = keys.generate_private_key()
    path = tmp_path / "log.key"

    keys.save_private_key(private, path)
    loaded = keys.load_private_key(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert keys.public_key_raw(loaded.public_key()) == keys.public_key_raw(private.public_key())
    assert [p.name for p in tmp_path.iterdir()] == ["log.key"]  # no temp file left behind


def test_saving_never_overwrites_a_key_by_accident(tmp_path):
    path = tmp_path / "log.key"
    keys.save_private_key(keys.generate_private_key(), path)
    original = path.read_bytes()

    with pytest.raises(FileExistsError):
        keys.save_private_key(keys.generate_private_key(), path)
    assert path.read_bytes() == original

    keys.save_private_key(keys.generate_private_key(), path, overwrite=True)
    assert path.read_bytes() != original
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_unusable_private_keys_are_explained(tmp_path):
    encrypted = keys.generate_private_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )

    with pytest.raises(keys.KeyFormatError, match="encrypted"):
        keys.parse_private_key(encrypted)
    with pytest.raises(keys.KeyFormatError, match="expected an Ed25519 private key"):
        keys.parse_private_key(ec_pem)
    with pytest.raises(keys.KeyFormatError, match="cannot read PEM private key"):
        keys.parse_private_key("garbage")
    with pytest.raises(keys.KeyFormatError, match="cannot read private key file"):
        keys.load_private_key(tmp_path / "missing.key")
