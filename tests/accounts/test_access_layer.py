"""Who holds which role is read in one place: the access layer (`govflow.accounts.access`).
A module that reads `user_roles` itself writes its own rule for "has the role", the smell
the first review counted eight times."""

from __future__ import annotations

import ast
from pathlib import Path

import govflow

ROOT = Path(govflow.__file__).resolve().parent
ALLOWED = {ROOT / "accounts" / "selectors.py", ROOT / "accounts" / "access.py"}


def _reads_user_roles(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [node.lineno for node in ast.walk(tree)
            if (isinstance(node, ast.Name) and node.id == "user_roles")
            or (isinstance(node, ast.Attribute) and node.attr == "user_roles")
            or (isinstance(node, ast.alias) and node.name == "user_roles")]


def test_no_module_but_the_access_layer_reads_user_roles():
    offenders = {str(path.relative_to(ROOT)): lines
                 for path in sorted(ROOT.rglob("*.py")) if path not in ALLOWED
                 and (lines := _reads_user_roles(path))}

    assert offenders == {}


def test_the_scan_finds_a_read_where_there_is_one(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from govflow.accounts.selectors import user_roles\n"
                      "ok = 'x' in user_roles(u)\n")

    assert _reads_user_roles(sample) == [1, 2]
