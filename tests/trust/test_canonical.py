"""RFC 8785 canonical JSON: our stdlib encoder must match the ``rfc8785`` package byte for byte."""

from __future__ import annotations

import enum
import json
import random
import struct

import pytest
import rfc8785

from govflow.trust.canonical import CanonicalizationError, canonical_json


def test_rfc8785_section_3_2_2_example():
    # The example input of RFC 8785 §3.2.2 and its canonical form from §3.2.3.
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )

    assert canonical_json(json.loads(source)) == expected.encode()


def test_members_are_sorted_by_utf16_code_units_not_code_points():
    # RFC 8785 §3.2.3 sorting example: U+1F600 (surrogates D83D DE00) sorts before U+FB33.
    names = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\x80", "\xf6"]
    value = {k: i for i, k in enumerate(names)}

    encoded = canonical_json(value).decode()

    keys = list(json.loads(encoded))
    assert keys == ["\r", "1", "\x80", "\xf6", "\u20ac", "\U0001f600", "\ufb33"]
    assert encoded.encode() == rfc8785.dumps(value)


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.5, "-1.5"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (0.1 + 0.2, "0.30000000000000004"),
        (2.0**53, "9007199254740992"),
        (9007199254740993.0, "9007199254740992"),
    ],
)
def test_floats_follow_ecmascript_number_to_string(number, text):
    assert canonical_json(number) == text.encode()
    assert canonical_json(number) == rfc8785.dumps(number)


def _random_string(rng: random.Random) -> str:
    pools = [
        lambda: chr(rng.randrange(0, 0x20)),  # control characters
        lambda: rng.choice('"\\/\x7f'),
        lambda: chr(rng.randrange(0x20, 0x7F)),
        lambda: chr(rng.randrange(0x80, 0xD800)),
        lambda: chr(rng.randrange(0xE000, 0x10000)),
        lambda: chr(rng.randrange(0x10000, 0x110000)),  # astral: a surrogate pair in UTF-16
    ]
    return "".join(rng.choice(pools)() for _ in range(rng.randrange(0, 12)))


def _random_float(rng: random.Random) -> float:
    while True:
        f = struct.unpack("<d", rng.randbytes(8))[0]
        if f == f and f not in (float("inf"), float("-inf")):
            return f if rng.random() < 0.5 else round(f, rng.randrange(0, 8)) % 1e9


def _random_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.randrange(-(2**53) + 1, 2**53)
    if kind == 2:
        return rng.randrange(-1000, 1000)
    if kind == 3:
        return _random_float(rng)
    if kind in (4, 5):
        return _random_string(rng)
    if kind == 6:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    return {_random_string(rng): _random_value(rng, depth + 1) for _ in range(rng.randrange(0, 6))}


def test_random_values_match_the_rfc8785_package():
    rng = random.Random(8785)
    for _ in range(3000):
        value = _random_value(rng)
        assert canonical_json(value) == rfc8785.dumps(value), repr(value)


def test_python_types_with_odd_str_forms_serialise_as_json():
    class Level(enum.IntEnum):
        HIGH = 3

    class Kind(enum.StrEnum):
        EVAL = "eval"

    value = {"level": Level.HIGH, "kind": Kind.EVAL, "tuple": (1, "two")}

    assert canonical_json(value) == b'{"kind":"eval","level":3,"tuple":[1,"two"]}'
    assert canonical_json(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "not a JSON number"),
        (float("inf"), "not a JSON number"),
        (2**53, "I-JSON range"),
        (-(2**53), "I-JSON range"),
        ("\ud800", "lone surrogate"),
        ({"\udc00": 1}, "not valid Unicode"),
        ({1: "x"}, "keys must be strings"),
        ({b"k": "x"}, "keys must be strings"),
        (b"bytes", "cannot canonicalise a bytes"),
        ({"x"}, "cannot canonicalise a set"),
    ],
)
def test_values_without_a_canonical_form_are_rejected_clearly(value, message):
    with pytest.raises(CanonicalizationError, match=message):
        canonical_json(value)


def test_self_referencing_values_are_rejected():
    loop: list = []
    loop.append(loop)

    with pytest.raises(CanonicalizationError, match="nested too deeply"):
        canonical_json(loop)
