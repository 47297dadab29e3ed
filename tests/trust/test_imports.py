"""The trust modules must stay importable by the stdlib-only client and the offline verifier."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = """
import json, sys
before = set(sys.modules)
for name in sys.argv[1:]:
    __import__(name)
new = {m.split(".")[0] for m in set(sys.modules) - before}
print(json.dumps(sorted(m for m in new if m not in sys.stdlib_module_names)))
"""


def third_party_imports(*modules: str) -> set[str]:
    # A fresh interpreter: this test process already has Django loaded by pytest-django.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *modules],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(result.stdout)) - {"govflow"}


@pytest.mark.parametrize("module", ["govflow.trust.merkle", "govflow.trust.canonical"])
def test_verifier_core_needs_only_the_standard_library(module):
    assert third_party_imports(module) == set()


def test_signing_modules_need_only_cryptography():
    modules = [f"govflow.trust.{m}" for m in ("note", "dsse", "intoto", "keys")]

    # _cffi_backend and _openssl are the compiled halves of cryptography itself.
    assert third_party_imports(*modules) <= {"cryptography", "_cffi_backend", "_openssl"}


def test_the_statement_layer_and_every_predicate_need_only_cryptography():
    # The client and the offline verifier read statements with this same code.
    modules = ["govflow.trust.statements", "govflow.signoffs.predicate",
               "govflow.auditing.predicates", "govflow.oversight.predicates",
               "govflow.rollout.predicates", "govflow.monitoring.predicates"]

    assert third_party_imports(*modules) <= {"cryptography", "_cffi_backend", "_openssl"}
