"""The witness runs on a regulator's machine with govflow's code but none of its server:
no Django, nothing beyond the standard library and cryptography."""

from __future__ import annotations

from tests.trust.test_imports import third_party_imports


def test_the_witness_needs_only_cryptography():
    modules = ["govflow.witness.cli", "govflow.witness.server", "govflow.trust.cosignature"]
    assert third_party_imports(*modules) <= {"cryptography", "_cffi_backend", "_openssl"}
