"""``--json`` output is written by ``cli_common.dumps_indented``, a faster ``json.dumps(obj, indent=2,
default=str, ensure_ascii=False)``: it must give the same text for every value, fuzzed here (scalars
of every kind the encoder tells apart, subclasses, odd keys, nesting, empty containers)."""

from __future__ import annotations

import datetime
import enum
import json
import math
import random
from pathlib import Path

import pytest

from sessionlens.cli_common import dumps_indented


class Colour(enum.IntEnum):
    RED = 1


class Name(str):
    pass


class Ratio(float):
    pass


class Obj:
    def __str__(self) -> str:
        return "obj \u00e9 \x01"


SCALARS = [
    "",
    "plain",
    'quote " back \\ slash / tab \t nl \n cr \r',
    "\x00\x1f\x7f\u2028\u2029",
    "caf\u00e9 \u4e2d\u6587 \U0001f600",
    "\ud800 lone surrogate",
    0,
    -1,
    2**70,
    -(2**64),
    True,
    False,
    None,
    0.0,
    -0.0,
    0.1,
    1e16,
    1e-7,
    123456789.123456789,
    math.inf,
    -math.inf,
    math.nan,
    Colour.RED,
    Name("sub"),
    Ratio(2.5),
    datetime.datetime(2026, 2, 3, 4, 5, 6),
    Path("/tmp/x y"),
    Obj(),
]
KEYS = ["k", "", "caf\u00e9", "a\nb", 0, -3, 2**65, 1.5, math.inf, True, False, None, Name("sk"), Colour.RED]


def _value(rng: random.Random, depth: int):
    r = rng.random()
    if depth > 4 or r < 0.55:
        return rng.choice(SCALARS)
    n = rng.choice([0, 0, 1, 2, 3, 5, 8])
    if r < 0.7:
        return [_value(rng, depth + 1) for _ in range(n)]
    if r < 0.78:
        return tuple(_value(rng, depth + 1) for _ in range(n))
    return {rng.choice(KEYS): _value(rng, depth + 1) for _ in range(n)}


def _want(obj) -> str:
    return json.dumps(obj, indent=2, default=str, ensure_ascii=False)


@pytest.mark.parametrize("seed", range(8))
def test_the_same_text_as_json_dumps(seed):
    rng = random.Random(seed)
    for _ in range(400):
        obj = _value(rng, 0)
        assert dumps_indented(obj) == _want(obj), obj


def test_a_report_shaped_value():
    rows = [{"day": f"2026-01-{d:02}", "model": "m\u00e9", "input": d * 1000, "cost_usd": d / 7, "title": None} for d in range(1, 29)]
    obj = {"by": "day", "rows": rows, "totals": {"input": 1, "cost_usd": 0.5}, "empty": [], "none": {}}
    assert dumps_indented(obj) == _want(obj)
    for scalar in SCALARS:
        assert dumps_indented(scalar) == _want(scalar)


def test_errors_as_json_dumps():
    with pytest.raises(TypeError):
        dumps_indented({(1, 2): 3})
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError):
        dumps_indented(loop)
