"""The line reader and small helpers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from sessionlens.ingest.base import MAX_TEXT, clip, iter_lines, loads, parse_ts, scrub_data_urls


def test_iter_lines_offsets_and_blank_lines() -> None:
    data = b'{"a":1}\n\n  \n{"b":2}\r\n{"c":'
    got = list(iter_lines(data, 100, 10))
    assert got == [
        (11, 100, b'{"a":1}', True),
        (14, 100 + 12, b'{"b":2}\r', True),
        (15, 100 + 21, b'{"c":', False),
    ]
    assert loads(got[1][2]) == {"b": 2}  # the kept \r is JSON whitespace


def test_iter_lines_empty_and_trailing_newline() -> None:
    assert list(iter_lines(b"", 0, 0)) == []
    assert list(iter_lines(b"\n\n", 0, 0)) == []
    assert list(iter_lines(b"x\n", 5, 0)) == [(1, 5, b"x", True)]


def test_iter_lines_huge_line() -> None:
    big = b"x" * (8 * 1024 * 1024)
    got = list(iter_lines(big + b"\ny\n", 0, 0))
    assert [(n, o, len(raw), t) for n, o, raw, t in got] == [(1, 0, len(big), True), (2, len(big) + 1, 1, True)]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-01-25T10:32:00.707Z", datetime(2026, 1, 25, 10, 32, 0, 707000, tzinfo=timezone.utc)),
        ("2026-01-25T11:32:00+01:00", datetime(2026, 1, 25, 10, 32, tzinfo=timezone.utc)),
        ("2026-01-25T10:32:00", None),  # naive: no zone, not trusted
        ("garbage", None),
        ("", None),
        (None, None),
        (1769354480, None),
    ],
)
def test_parse_ts(value: object, expected: datetime | None) -> None:
    assert parse_ts(value) == expected


def test_clip() -> None:
    assert clip(None) is None
    assert clip("abc") == "abc"
    cut = clip("x" * (MAX_TEXT + 10))
    assert cut.startswith("x" * MAX_TEXT) and cut.endswith("[… truncated by sessionlens]")


def test_scrub_data_urls() -> None:
    b64 = "iVBORw0KGgo+/=" * 1000
    text = f'see ![s](data:image/png;base64,{b64}) and "data:image/jpeg;base64,{b64}" end'
    assert scrub_data_urls(text) == 'see ![s]([image]) and "[image]" end'
    assert scrub_data_urls("no images; base64, here") == "no images; base64, here"
    assert scrub_data_urls("x;base64,abc") == "x;base64,abc"  # not a data URL


def test_scrub_data_urls_large_image() -> None:
    b64 = "QUJD" * (2 * 1024 * 1024)  # 8 MB of base64
    text = "before data:image/png;base64," + b64 + "\nafter"
    assert scrub_data_urls(text) == "before [image]\nafter"
