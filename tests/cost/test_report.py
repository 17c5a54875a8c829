"""Report helpers: buckets, terminal table, CSV, Markdown, SVG chart."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest

from sessionlens.cost.report import bucket_key, format_table, render_svg_chart, to_csv, to_markdown

SVG = "{http://www.w3.org/2000/svg}"


# -- buckets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ts", "by", "key"),
    [
        (datetime(2026, 2, 19, 12, tzinfo=timezone.utc), "day", "2026-02-19"),
        (datetime(2026, 2, 19, 12, tzinfo=timezone.utc), "week", "2026-W08"),
        (datetime(2026, 2, 19, 12, tzinfo=timezone.utc), "month", "2026-02"),
        # ISO weeks across the year boundary
        (datetime(2026, 12, 31, tzinfo=timezone.utc), "week", "2026-W53"),
        (datetime(2027, 1, 3, tzinfo=timezone.utc), "week", "2026-W53"),
        (datetime(2027, 1, 4, tzinfo=timezone.utc), "week", "2027-W01"),
        (datetime(2025, 12, 29, tzinfo=timezone.utc), "week", "2026-W01"),
        (datetime(2025, 12, 31, 23, 59, tzinfo=timezone.utc), "month", "2025-12"),
        (datetime(2026, 1, 1, tzinfo=timezone.utc), "month", "2026-01"),
        (datetime(2026, 1, 1), "day", "2026-01-01"),  # naive = UTC
    ],
)
def test_bucket_key(ts, by, key):
    assert bucket_key(ts, by, timezone.utc) == key


def test_bucket_key_uses_the_time_zone():
    ts = datetime(2025, 12, 31, 20, tzinfo=timezone.utc)
    assert bucket_key(ts, "month", "Asia/Tokyo") == "2026-01"
    assert bucket_key(ts, "day", timezone(timedelta(hours=-5))) == "2025-12-31"
    assert bucket_key(ts, "month", None) == "2025-12"


def test_bucket_key_rejects_bad_input():
    with pytest.raises(ValueError, match="bucket"):
        bucket_key(datetime(2026, 1, 1), "year", None)
    with pytest.raises(ValueError, match="time zone"):
        bucket_key(datetime(2026, 1, 1), "day", "Mars/Olympus")


# -- terminal table ---------------------------------------------------------------------------

ROWS = [
    {"day": "2026-02-19", "model": "claude-opus-4-6", "tokens": 1234567, "cost_usd": 12.3456},
    {"day": "2026-02-20", "model": "gpt-5.2-codex", "tokens": 89, "cost_usd": 0.5},
]


def test_format_table_aligns_and_totals():
    text = format_table(ROWS, ["day", "model", ("tokens", "Tokens"), ("cost_usd", "Cost")])
    lines = text.splitlines()
    assert lines[0].split() == ["day", "model", "Tokens", "Cost"]
    assert "1,234,567" in lines[2] and "12.35" in lines[2]
    assert lines[-1].split() == ["Total", "1,234,656", "12.85"]
    # numbers right-aligned: every data line ends at the same column
    assert len({len(line) for line in lines if line[:1].isdigit() or line.startswith("Total")}) == 1
    assert lines[2].index("1,234,567") + len("1,234,567") == lines[3].index("89") + 2


def test_format_table_unknown_values_are_not_zero():
    rows = [*ROWS, {"day": "2026-02-21", "model": "mystery", "tokens": 1, "cost_usd": None}]
    text = format_table(rows, ["day", "model", "tokens", "cost_usd"])
    assert "n/a" in text.splitlines()[4]
    assert text.splitlines()[-1].split()[-1] == ">=12.85"


def test_format_table_keeps_cells_on_one_line():
    text = format_table([{"name": "a\nb", "n": 1}], totals=False)
    assert text.splitlines() == ["name  n", "----  -", "a b   1"]


# -- CSV / Markdown ---------------------------------------------------------------------------


def test_to_csv_quotes_and_neutralises_formulas():
    rows = [{"model": 'weird, "model"\nname', "cost": 1.5, "note": "=HYPERLINK(1)"}, {"model": "x", "cost": None}]
    text = to_csv(rows)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == ["model", "cost", "note"]
    assert parsed[1] == ['weird, "model"\nname', "1.5", "'=HYPERLINK(1)"]
    assert parsed[2] == ["x", "", ""]


def test_to_markdown_escapes_cells():
    rows = [{"model": "a|b <script>alert(1)</script> *x* _y_", "cost": 2.0}, {"model": "z", "cost": 3.0}]
    md = to_markdown(rows)
    lines = md.splitlines()
    assert lines[0] == "| model | cost |"
    assert lines[1] == "|---|---:|"
    assert "a\\|b &lt;script&gt;alert(1)&lt;/script&gt; \\*x\\* \\_y\\_" in lines[2]
    assert "<script>" not in md
    assert all(line.count("|") - line.count("\\|") == 3 for line in lines)
    assert lines[-1] == "| **Total** | **5.00** |"


# -- SVG chart --------------------------------------------------------------------------------

SERIES = [
    {"day": "2026-02-19", "model": "claude-opus-4-6", "cost": 3.0},
    {"day": "2026-02-19", "model": "gpt-5.2-codex", "cost": 1.0},
    {"day": "2026-02-20", "model": "claude-opus-4-6", "cost": 2.0},
    {"day": "2026-02-20", "model": "<script>alert('x')</script>", "cost": 0.5},
    {"day": "2026-02-20", "model": "mystery", "cost": None},
]


def test_svg_is_well_formed_escaped_and_self_contained():
    svg = render_svg_chart(SERIES)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("width") == "800" and root.get("height") == "300"
    assert "<script" not in svg and "&lt;script&gt;" in svg
    assert root.find(f".//{SVG}script") is None
    assert "href" not in svg and "url(" not in svg
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert any("<script>alert('x')</script>" in t for t in texts)  # legend shows the name as text
    assert "Day" in texts and "Cost (USD)" in texts


def test_svg_stacks_costs_per_day():
    root = ET.fromstring(render_svg_chart(SERIES))
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 4  # the unknown cost is not drawn
    by_day: dict[str, float] = {}
    for bar in bars:
        day = bar.find(f"{SVG}title").text.split()[0]
        by_day[day] = by_day.get(day, 0.0) + float(bar.get("height"))
    # heights are proportional to the day totals 4.0 and 2.5
    assert by_day["2026-02-19"] / by_day["2026-02-20"] == pytest.approx(4.0 / 2.5, rel=1e-3)


def test_svg_is_deterministic_and_order_independent():
    assert render_svg_chart(SERIES) == render_svg_chart(list(reversed(SERIES)))


def test_svg_merges_many_models_into_other():
    series = [{"day": "2026-01-01", "model": f"m{i}", "cost": float(i + 1)} for i in range(12)]
    root = ET.fromstring(render_svg_chart(series))
    legend = [t.text for t in root.iter(f"{SVG}text") if t.find(f"{SVG}title") is not None]
    assert len(legend) == 8 and legend[-1] == "other" and legend[0] == "m11"


def test_svg_without_data():
    svg = render_svg_chart([])
    assert "No cost data" in "".join(ET.fromstring(svg).itertext())


def test_to_html_escapes_every_cell_and_marks_numbers():
    from sessionlens.cost.report import to_html

    html = to_html([{"model": "<b>x</b>", "cost_usd": 1.5}, {"model": "y & z", "cost_usd": 2.0}])
    assert "<b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html and "y &amp; z" in html
    assert '<tr class="total"><td>Total</td><td class=num>3.50</td></tr>' in html


def test_format_cost():
    from sessionlens.cost.report import format_cost

    assert [format_cost(0.424), format_cost(0.004), format_cost(1.2, False), format_cost(None, False), format_cost(None)] == [
        "$0.42",
        "<$0.01",
        "$1.20+",
        "$?",
        "",
    ]
