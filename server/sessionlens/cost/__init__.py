"""Token pricing and cost computation (pure domain code; the store aggregates, this prices).

The names below load with their module on first use (``cost.pricing`` builds pydantic models): a cost
report, which reads costs priced at indexing time, imports ``cost.report`` only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sessionlens.models.lazy import lazy_exports

if TYPE_CHECKING:
    from sessionlens.cost.pricing import CostResult, ModelPrice, PriceTable, PricingConfig, PricingError, cost_of
    from sessionlens.cost.report import bucket_key, format_table, render_svg_chart, to_csv, to_markdown

_LAZY = {
    "CostResult": "sessionlens.cost.pricing",
    "ModelPrice": "sessionlens.cost.pricing",
    "PriceTable": "sessionlens.cost.pricing",
    "PricingConfig": "sessionlens.cost.pricing",
    "PricingError": "sessionlens.cost.pricing",
    "cost_of": "sessionlens.cost.pricing",
    "bucket_key": "sessionlens.cost.report",
    "format_table": "sessionlens.cost.report",
    "render_svg_chart": "sessionlens.cost.report",
    "to_csv": "sessionlens.cost.report",
    "to_markdown": "sessionlens.cost.report",
}

__all__ = [
    "CostResult",
    "ModelPrice",
    "PriceTable",
    "PricingConfig",
    "PricingError",
    "bucket_key",
    "cost_of",
    "format_table",
    "render_svg_chart",
    "to_csv",
    "to_markdown",
]

__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)
