"""The offline verifier runs on a regulator's machine without the server: it and the
decision modules it shares with the server's gates import no Django (nor anything else
the server needs), only cryptography, the YAML reader for policy texts and scenarios,
and govflow's own plain `evals` library (with the RFC 8785 encoder its scenario digest
uses)."""

from __future__ import annotations

from tests.trust.test_imports import third_party_imports

# yaml's compiled parts come with it.
ALLOWED = {"cryptography", "_cffi_backend", "_openssl", "yaml", "_yaml", "cython_runtime",
           "evals", "rfc8785"}


def test_the_verifier_and_the_shared_decisions_import_no_django():
    found = third_party_imports(
        "govflow.verify.__main__", "govflow.verify.bundle", "govflow.auditing.decisions",
        "govflow.monitoring.decisions", "govflow.rollout.cohort_rule",
        "govflow.evalruns.gates.decision", "govflow.evalruns.gates.tally",
        # what the deception_eval re-derivation imports when it runs
        "evals.scenarios", "evals.validation", "evals.graders", "evals.design")

    assert {m for m in found if not m.startswith("_cython")} <= ALLOWED, found
