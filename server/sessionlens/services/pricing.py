"""Prices and cost reports: the price table (bundled + the user's overrides), re-pricing, the
cost report by day/week/month/model/session/project/agent and its chart."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from sessionlens.store import parse_time

if TYPE_CHECKING:
    from sessionlens.cost import PriceTable
    from sessionlens.services.base import Host

# The price table (pydantic) and the report helpers load where they are used: a cost report reads
# the costs priced at indexing time and needs neither.

#: the figures summed per row of a usage report
_SUMMED = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning", "cost_usd", "unknown", "requests", "sessions")


class CostTotals(TypedDict):
    input: int
    cache_read: int
    cache_write: int
    output: int
    cost_usd: float
    unpriced_requests: int
    requests: int


class CostReport(TypedDict):
    by: str
    rows: list[dict[str, Any]]  # keyed by the grouping (``day``, ``model``, ...), so not a fixed shape
    totals: CostTotals


def load_prices(home: Path) -> tuple[PriceTable, list[str]]:
    """The bundled price table plus the user's overrides from ``<home>/config.json`` (``pricing`` section)."""
    from sessionlens.cost import PriceTable, PricingConfig

    table = PriceTable.default()
    errors: list[str] = []
    cfg_path = home / "config.json"
    if cfg_path.exists():
        try:
            import orjson

            raw = orjson.loads(cfg_path.read_bytes()).get("pricing")
            if raw:
                table = PriceTable.from_config(PricingConfig.model_validate(raw), table)
        except Exception as e:  # a bad config never stops indexing
            errors.append(f"{cfg_path}: pricing ignored: {e}")
    return table, errors


class Costs:
    def __init__(self, host: Host):
        self.host = host

    def report(
        self, by: str = "day", *, since: Any = None, until: Any = None, project: str | None = None, agent: str | None = None, tz: Any = None
    ) -> CostReport:
        db = self.host.db()
        raw = db.usage_report(
            "day" if by == "week" else by,
            since=parse_time(since),
            until=parse_time(until, end=True),
            project=project,
            agent=agent,
            spans=False,  # the report shows no session counts nor time spans
        )
        rows: dict[tuple[str | None, str], dict[str, Any]] = {}
        for g in raw:
            key = g.key
            if by == "week" and key:
                from sessionlens.cost.report import bucket_key

                key = bucket_key(datetime.fromisoformat(key), "week", tz)
            k = (key, g.model)
            acc = rows.get(k)
            if acc is None:
                rows[k] = {**g.model_dump(), "key": key}
            else:
                for f in _SUMMED:
                    acc[f] += getattr(g, f)
        out: list[dict[str, Any]] = []
        # a request without a usable timestamp (or model) has no day: it sorts first, never fails the report
        for (key, model), r in sorted(rows.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or "")):
            if by == "session":
                s = db.get_session(key) if key else None
                r["title"] = s.title if s else None
            out.append(
                {
                    by: key,
                    **({"model": model} if by in ("day", "week", "month") else {}),
                    "input": r["input"],
                    "cache_read": r["cache_read"],
                    "cache_write": r["cache_write_5m"] + r["cache_write_1h"],
                    "output": r["output"],
                    "cost_usd": round(r["cost_usd"], 6),
                    "unpriced_requests": r["unknown"],
                    "requests": r["requests"],
                    **({"title": r.get("title")} if by == "session" else {}),
                }
            )
        totals: CostTotals = {
            "input": sum(r["input"] for r in out),
            "cache_read": sum(r["cache_read"] for r in out),
            "cache_write": sum(r["cache_write"] for r in out),
            "output": sum(r["output"] for r in out),
            "cost_usd": round(sum(r["cost_usd"] for r in rows.values()), 6),
            "unpriced_requests": sum(r["unpriced_requests"] for r in out),
            "requests": sum(r["requests"] for r in out),
        }
        return {"by": by, "rows": out, "totals": totals}

    def reprice(self) -> int:
        """Re-price every stored request with the current table (after a pricing override or import)."""
        from sessionlens.cost import cost_of
        from sessionlens.models import TokenUsage

        prices = self.host.prices

        def fn(r: tuple[Any, ...]) -> tuple[float | None, int]:
            _key, model, agent, inp, cr, cw5, cw1, out, reas, speed = r
            u = TokenUsage(
                input_tokens=inp,
                cache_read_tokens=cr,
                cache_write_5m_tokens=cw5,
                cache_write_1h_tokens=cw1,
                output_tokens=out,
                reasoning_tokens=reas,
            )
            c = cost_of(u, model, prices, agent=agent, speed=speed)
            return c.usd, int(c.known)

        db = self.host.db()
        with db.lock:
            return db.recompute_costs(fn)

    def chart_svg(
        self, *, by: str = "day", since: Any = None, until: Any = None, project: str | None = None, agent: str | None = None
    ) -> str:
        """The cost chart of ``report(by)``: bars per bucket (stacked by model for day/week/month)."""
        rep = self.report(by, since=since, until=until, project=project, agent=agent)
        series = []
        for r in rep["rows"]:
            label = r.get(by)
            if by == "session":
                label = " ".join(str(r.get("title") or label or "?").split())[:24]
            series.append(
                {
                    "day": label if label is not None else "(none)",
                    "model": r.get("model") or (label if by == "model" else "cost"),
                    "cost": r["cost_usd"],
                }
            )
        timed = by in ("day", "week", "month")
        title = f"Cost per {by}" + (" by model" if timed else "") + " (USD)"
        from sessionlens.cost.report import render_svg_chart

        return render_svg_chart(series, title=title, x_label=by.capitalize())
