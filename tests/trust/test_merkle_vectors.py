"""Conformance: every RFC 6962/9162 proof vector in the shared folder (transparency-dev/merkle).

The vectors are read in place, never copied into the project. Override the folder with
GOVFLOW_VECTORS_DIR (it must be the ``merkle`` folder holding ``inclusion/`` and ``consistency/``).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path

import pytest

from govflow.trust import merkle

# tests/trust/<this file> -> parents[2] is the repo (/work/main); shared lives beside it.
_DEFAULT_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "merkle"
VECTORS_DIR = Path(os.environ.get("GOVFLOW_VECTORS_DIR") or _DEFAULT_DIR)


def _files(kind: str) -> list[Path]:
    return sorted((VECTORS_DIR / kind).rglob("*.json"))


def _b64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None  # undecodable input is just another malformed case


def _proof(case: dict) -> list[bytes] | None:
    decoded = [_b64(p) for p in case["proof"] or []]  # Go's nil proof is an empty proof
    return None if any(p is None for p in decoded) else decoded  # type: ignore[return-value]


def _case_id(path: Path) -> str:
    return str(path.relative_to(VECTORS_DIR))


def test_vectors_folder_is_present_and_complete():
    # A silently empty glob would make the parametrized tests below vacuous.
    assert VECTORS_DIR.is_dir(), f"vectors not found at {VECTORS_DIR}; set GOVFLOW_VECTORS_DIR"
    inclusion, consistency = _files("inclusion"), _files("consistency")
    assert len(inclusion) >= 90
    assert len(consistency) >= 90
    assert any("additional" in p.parts for p in inclusion)
    assert any("additional" in p.parts for p in consistency)
    every_json = sorted(VECTORS_DIR.rglob("*.json"))
    assert every_json == sorted(inclusion + consistency)


@pytest.mark.parametrize("path", _files("inclusion"), ids=_case_id)
def test_inclusion_vector(path: Path):
    case = json.loads(path.read_text())
    leaf, root, proof = _b64(case["leafHash"]), _b64(case["root"]), _proof(case)

    ok = (
        leaf is not None
        and root is not None
        and proof is not None
        and merkle.verify_inclusion(leaf, case["leafIdx"], case["treeSize"], proof, root)
    )

    assert ok is (not case["wantErr"]), case["desc"]


@pytest.mark.parametrize("path", _files("consistency"), ids=_case_id)
def test_consistency_vector(path: Path):
    case = json.loads(path.read_text())
    root1, root2, proof = _b64(case["root1"]), _b64(case["root2"]), _proof(case)

    ok = (
        root1 is not None
        and root2 is not None
        and proof is not None
        and merkle.verify_consistency(case["size1"], case["size2"], proof, root1, root2)
    )

    assert ok is (not case["wantErr"]), case["desc"]


def _rfc6962_leaves() -> list[bytes]:
    hexes = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    return [merkle.leaf_hash(bytes.fromhex(h)) for h in hexes]


def _accepted(kind: str) -> list[Path]:
    """Accepted, non-trivial cases whose tree is a prefix of the eight RFC 6962 leaves."""
    leaves = _rfc6962_leaves()
    out = []
    for path in _files(kind):
        case = json.loads(path.read_text())
        size = case.get("treeSize", case.get("size2"))
        root = _b64(case.get("root", case.get("root2")) or "")
        if (
            not case["wantErr"]
            and size <= 8
            and case.get("size1") != size
            and merkle.root_from_leaf_hashes(leaves[:size]) == root
        ):
            out.append(path)
    return out


@pytest.mark.parametrize("path", _accepted("inclusion"), ids=_case_id)
def test_generated_inclusion_proof_matches_accepted_vector(path: Path):
    # Our generator must reproduce each accepted proof byte for byte.
    case = json.loads(path.read_text())
    leaves = _rfc6962_leaves()[: case["treeSize"]]
    nodes = merkle.build_perfect_nodes(leaves)

    proof = merkle.inclusion_proof(case["leafIdx"], case["treeSize"], lambda lv, i: nodes[lv, i])

    assert leaves[case["leafIdx"]] == _b64(case["leafHash"])
    assert proof == _proof(case)


@pytest.mark.parametrize("path", _accepted("consistency"), ids=_case_id)
def test_generated_consistency_proof_matches_accepted_vector(path: Path):
    case = json.loads(path.read_text())
    leaves = _rfc6962_leaves()[: case["size2"]]
    nodes = merkle.build_perfect_nodes(leaves)

    proof = merkle.consistency_proof(case["size1"], case["size2"], lambda lv, i: nodes[lv, i])

    assert merkle.root_from_leaf_hashes(leaves[: case["size1"]]) == _b64(case["root1"])
    assert proof == _proof(case)


def test_generator_cases_were_found():
    assert len(_accepted("inclusion")) >= 4
    assert len(_accepted("consistency")) >= 4
