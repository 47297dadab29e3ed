"""The replay compares recorded and re-derived gate evidence as canonical JSON would,
without writing it: a report whose evidence differs only where the canonical bytes would
differ is caught, and one whose numbers are merely spelled differently is not."""

from __future__ import annotations

import pytest

from govflow.trust.canonical import canonical_json
from govflow.verify.replay.gates import same_json

PAIRS = [
    ({"size": 1}, {"size": 1.0}),
    ({"counted": True}, {"counted": 1}),
    ({"open": []}, {"open": [None]}),
    ({"open": [1, 2]}, {"open": [2, 1]}),
    ({"a": 1}, {"a": 1, "b": None}),
    ({"root": "ab"}, {"root": "AB"}),
    ({"n": 0}, {"n": False}),
    ({"x": None}, {"x": 0}),
    ({"big": 2.0**60}, {"big": 2.0**60 + 2**8}),
    ({"t": 0.1}, {"t": 0.1000001}),
]


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_same_json_agrees_with_the_canonical_bytes(a, b):
    assert same_json(a, b) is (canonical_json(a) == canonical_json(b))
