"""The offline verifier runs on a regulator's machine without the server: it and the
decision modules it shares with the server's gates import no Django (nor anything else
the server needs), only cryptography and the YAML reader for policy texts."""

from __future__ import annotations

from tests.trust.test_imports import third_party_imports

# yaml's compiled parts come with it.
ALLOWED = {"cryptography", "_cffi_backend", "_openssl", "yaml", "_yaml", "cython_runtime"}


def test_the_verifier_and_the_shared_decisions_import_no_django():
    found = third_party_imports(
        "govflow.verify.__main__", "govflow.verify.bundle", "govflow.auditing.decisions",
        "govflow.monitoring.decisions", "govflow.rollout.cohort_rule")

    assert {m for m in found if not m.startswith("_cython")} <= ALLOWED, found
