"""Token pricing and cost computation (pure domain code; the store aggregates, this prices)."""

from sessionlens.cost.pricing import (
    CostResult,
    ModelPrice,
    PriceTable,
    PricingConfig,
    PricingError,
    cost_of,
)
from sessionlens.cost.report import bucket_key, format_table, render_svg_chart, to_csv, to_markdown

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
