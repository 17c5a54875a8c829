"""Pure helpers for cost reports: time buckets, terminal tables, CSV, Markdown and an SVG chart.

Rows are plain dicts (column name -> value).  Numbers (int/float, not bool) are right-aligned and
summed in totals rows; ``None`` means "unknown" and is shown as ``n/a``, never as 0.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timezone, tzinfo
from typing import Any, TypeGuard
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def escape(text: str) -> str:
    """XML text escaping (``xml.sax.saxutils``, which pulls in ``urllib.request``: loaded by the
    HTML and SVG outputs only, not by a cost report in a terminal)."""
    from xml.sax.saxutils import escape as _escape

    return _escape(text)


def quoteattr(text: str) -> str:
    from xml.sax.saxutils import quoteattr as _quoteattr

    return _quoteattr(text)


Row = Mapping[str, Any]
Columns = Sequence[str | tuple[str, str]]

UNKNOWN = "n/a"
BUCKETS = ("day", "week", "month")


def _zone(tz: tzinfo | str | None) -> tzinfo:
    if tz is None:
        return timezone.utc
    if isinstance(tz, str):
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
    return tz


def bucket_key(ts: datetime, by: str, tz: tzinfo | str | None = None) -> str:
    """The report bucket of a timestamp in time zone ``tz`` (default UTC; naive = UTC).

    ``day`` -> ``2026-02-19``, ``week`` -> ISO week ``2026-W08`` (the ISO year, so 2027-01-01 is
    ``2026-W53``), ``month`` -> ``2026-02``.
    """
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    local = ts.astimezone(_zone(tz))
    if by == "day":
        return local.strftime("%Y-%m-%d")
    if by == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if by == "month":
        return local.strftime("%Y-%m")
    raise ValueError(f"unknown bucket {by!r}; expected one of {', '.join(BUCKETS)}")


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fmt(value: Any) -> str:
    """Display form: thousands separators, 2 decimals for floats, ``n/a`` for None."""
    if value is None:
        return UNKNOWN
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return UNKNOWN
        if value != 0 and abs(value) < 0.005:
            return "<0.01" if value > 0 else ">-0.01"
        return f"{value:,.2f}"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return " ".join(str(value).split())  # one line per cell


def _columns(rows: Sequence[Row], columns: Columns | None) -> list[tuple[str, str]]:
    if columns is None:
        seen: dict[str, None] = {}
        for row in rows:
            seen.update(dict.fromkeys(row))
        return [(key, key) for key in seen]
    return [(c, c) if isinstance(c, str) else (c[0], c[1]) for c in columns]


def _numeric(rows: Sequence[Row], key: str) -> bool:
    values = [row.get(key) for row in rows if row.get(key) is not None]
    return bool(values) and all(_is_number(v) for v in values)


def _total(rows: Sequence[Row], key: str) -> str:
    values = [row.get(key) for row in rows]
    known = [v for v in values if _is_number(v) and math.isfinite(v)]
    if not known:
        return UNKNOWN
    text = _fmt(sum(known))
    return text if len(known) == len(values) else f">={text}"  # some values unknown


def _cells(rows: Sequence[Row], cols: list[tuple[str, str]], totals: bool) -> tuple[list[list[str]], list[bool]]:
    numeric = [_numeric(rows, key) for key, _ in cols]
    body = [[_fmt(row.get(key)) for key, _ in cols] for row in rows]
    if totals and rows and any(numeric):
        total_row = [_total(rows, key) if num else "" for (key, _), num in zip(cols, numeric)]
        if not numeric[0]:
            total_row[0] = "Total"
        body.append(total_row)
    return body, numeric


def format_table(rows: Sequence[Row], columns: Columns | None = None, *, totals: bool = True) -> str:
    """An aligned plain-text table for the terminal, numbers right-aligned, with a totals row.

    ``columns`` lists keys or ``(key, header)`` pairs; default: every key, in first-seen order.
    """
    cols = _columns(rows, columns)
    if not cols:
        return ""
    body, numeric = _cells(rows, cols, totals)
    headers = [header for _, header in cols]
    widths = [max(len(r[i]) for r in [headers, *body]) for i in range(len(cols))]

    def line(cells: list[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [line(headers), rule]
    data = body[: len(rows)]
    out.extend(line(r) for r in data)
    if len(body) > len(rows):
        out.extend([rule, line(body[-1])])
    return "\n".join(out) + "\n"


def _csv_cell(value: Any) -> Any:
    """Plain values; text that a spreadsheet would run as a formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(rows: Sequence[Row], columns: Columns | None = None) -> str:
    """RFC 4180 CSV with a header row; unknown values are empty, numbers are unformatted."""
    cols = _columns(rows, columns)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([_csv_cell(header) for _, header in cols])
    for row in rows:
        writer.writerow([_csv_cell(row.get(key)) for key, _ in cols])
    return buf.getvalue()


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|#~"} | {"<": "&lt;", ">": "&gt;", "&": "&amp;"})


def _md(text: str) -> str:
    return text.translate(_MD_SPECIAL)


def to_markdown(rows: Sequence[Row], columns: Columns | None = None, *, totals: bool = True) -> str:
    """A GitHub-flavoured Markdown table; cell text is escaped (``|``, HTML, emphasis, newlines)."""
    cols = _columns(rows, columns)
    if not cols:
        return ""
    body, numeric = _cells(rows, cols, totals)
    out = [
        "| " + " | ".join(_md(header) for _, header in cols) + " |",
        "|" + "|".join("---:" if num else "---" for num in numeric) + "|",
    ]
    for i, cells in enumerate(body):
        if i == len(rows):  # totals row in bold
            cells = [f"**{_md(c)}**" if c else "" for c in cells]
        else:
            cells = [_md(c) for c in cells]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def to_html(rows: Sequence[Row], columns: Columns | None = None, *, totals: bool = True) -> str:
    """The same table as :func:`to_markdown`, as an HTML ``<table>`` (every cell escaped; numbers right-aligned)."""
    cols = _columns(rows, columns)
    if not cols:
        return ""
    body, numeric = _cells(rows, cols, totals)

    def cell(tag: str, text: str, num: bool) -> str:
        return f"<{tag}{' class=num' if num else ''}>{escape(text)}</{tag}>"

    out = ["<table>", "<thead><tr>" + "".join(cell("th", h, num) for (_, h), num in zip(cols, numeric)) + "</tr></thead>", "<tbody>"]
    for i, cells in enumerate(body):
        cls = ' class="total"' if i == len(rows) else ""
        out.append(f"<tr{cls}>" + "".join(cell("td", c, num) for c, num in zip(cells, numeric)) + "</tr>")
    out += ["</tbody>", "</table>"]
    return "\n".join(out) + "\n"


def format_cost(cost: float | None, known: bool | None = True) -> str:
    """``$0.42``, ``<$0.01``; a partial figure (some requests unpriced) gets a ``+``; unknown is ``$?``."""
    if cost is None or not math.isfinite(cost):
        return "$?" if known is False else ""
    amount = "<$0.01" if 0 < cost < 0.01 else f"${cost:,.2f}"
    return f"{amount}+" if known is False else amount


# -- SVG chart ----------------------------------------------------------------------------------

_PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f")
_OTHER_COLOR = "#bab0ac"
_MAX_SERIES = len(_PALETTE)  # models beyond this are merged into "other"


def _nice_max(value: float) -> float:
    """The smallest 1/2/2.5/5 x 10^k that is >= value."""
    if value <= 0:
        return 1.0
    exp = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exp
        if candidate >= value * (1 - 1e-12):
            return candidate
    return 10 ** (exp + 1)


def _money(value: float) -> str:
    if value >= 100:
        return f"${value:,.0f}"
    if value >= 1:
        return f"${value:,.2f}".rstrip("0").rstrip(".")
    return f"${value:.4f}".rstrip("0").rstrip(".")


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def render_svg_chart(
    series: Iterable[Mapping[str, Any]],
    *,
    width: int = 800,
    height: int = 300,
    title: str = "Cost per day by model (USD)",
    x_label: str = "Day",
) -> str:
    """A self-contained stacked bar chart of cost per day by model.

    ``series`` items are ``{"day": ..., "model": ..., "cost": float | None}``; repeated
    (day, model) pairs are summed, unknown/negative costs are skipped.  Models are stacked by total
    cost (largest at the bottom); beyond eight models the smallest are merged into "other".  The
    output has no scripts or external references, escapes all text and is deterministic.
    """
    cells: dict[tuple[str, str], float] = {}
    for item in series:
        cost = item.get("cost")
        if not _is_number(cost) or not math.isfinite(cost) or cost < 0:
            continue
        day = _fmt(item.get("day")) if item.get("day") is not None else "?"
        model = str(item.get("model") or "unknown model")
        cells[(day, model)] = cells.get((day, model), 0.0) + float(cost)

    totals_by_model: dict[str, float] = {}
    for (_, model), cost in cells.items():
        totals_by_model[model] = totals_by_model.get(model, 0.0) + cost
    ordered = sorted(totals_by_model, key=lambda m: (-totals_by_model[m], m))
    colors = {m: _PALETTE[i % len(_PALETTE)] for i, m in enumerate(ordered)}
    if len(ordered) > _MAX_SERIES:
        keep = set(ordered[: _MAX_SERIES - 1])
        merged: dict[tuple[str, str], float] = {}
        for (day, model), cost in cells.items():
            key = (day, model if model in keep else "other")
            merged[key] = merged.get(key, 0.0) + cost
        cells = merged
        ordered = ordered[: _MAX_SERIES - 1] + ["other"]
        colors["other"] = _OTHER_COLOR
    legend_totals = {m: sum(c for (_, name), c in cells.items() if name == m) for m in ordered}
    days = sorted({day for day, _ in cells})

    left, right, top, bottom = 64, 180, 34, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(title)} '
        'font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{width / 2:g}" y="20" text-anchor="middle" font-size="14" fill="#222222">{escape(title)}</text>',
    ]
    if not days:
        out.append(f'<text x="{width / 2:g}" y="{height / 2:g}" text-anchor="middle" fill="#666666">No cost data</text>')
        out.append("</svg>")
        return "\n".join(out) + "\n"

    day_totals = {d: sum(c for (day, _), c in cells.items() if day == d) for d in days}
    y_max = _nice_max(max(day_totals.values()))
    scale = plot_h / y_max
    base_y = top + plot_h

    # grid + y labels
    ticks = 4 if f"{y_max:e}".startswith("2.0") else 5  # round steps: 0.5, 1, 2, 5 ... x 10^k
    for i in range(ticks + 1):
        value = y_max * i / ticks
        y = base_y - value * scale
        out.append(f'<line x1="{left}" y1="{_n(y)}" x2="{left + plot_w}" y2="{_n(y)}" stroke="#e0e0e0"/>')
        out.append(f'<text x="{left - 6}" y="{_n(y + 4)}" text-anchor="end" fill="#444444">{escape(_money(value))}</text>')
    out.append(f'<line x1="{left}" y1="{base_y}" x2="{left + plot_w}" y2="{base_y}" stroke="#888888"/>')

    # bars
    slot = plot_w / len(days)
    bar_w = max(1.0, min(40.0, slot * 0.7))
    label_every = max(1, math.ceil(len(days) / max(1, plot_w // 70)))
    for i, day in enumerate(days):
        x = left + i * slot + (slot - bar_w) / 2
        y = base_y
        for model in ordered:
            cost = cells.get((day, model), 0.0)
            if cost <= 0:
                continue
            h = cost * scale
            y -= h
            out.append(
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(bar_w)}" height="{_n(h)}" fill="{colors[model]}">'
                f"<title>{escape(f'{day} {model}: ${cost:,.2f}')}</title></rect>"
            )
        if i % label_every == 0:
            out.append(
                f'<text x="{_n(left + i * slot + slot / 2)}" y="{base_y + 16}" text-anchor="middle" fill="#444444">{escape(day)}</text>'
            )

    # axis labels
    out.append(f'<text x="{left + plot_w / 2:g}" y="{height - 8}" text-anchor="middle" fill="#222222">{escape(x_label)}</text>')
    out.append(
        f'<text x="14" y="{top + plot_h / 2:g}" text-anchor="middle" fill="#222222" '
        f'transform="rotate(-90 14 {top + plot_h / 2:g})">Cost (USD)</text>'
    )

    # legend
    lx = left + plot_w + 16
    for i, model in enumerate(ordered):
        ly = top + 4 + i * 18
        label = model if len(model) <= 22 else model[:21] + "…"
        out.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{colors[model]}"/>')
        out.append(
            f'<text x="{lx + 18}" y="{ly + 10}" fill="#222222">{escape(label)}'
            f"<title>{escape(f'{model}: ${legend_totals[model]:,.2f}')}</title></text>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"
