"""Token pricing and cost computation (pure domain code; the store aggregates, this prices)."""

from sessionlens.cost.pricing import (
    CostResult,
    ModelPrice,
    PriceTable,
    PricingConfig,
    PricingError,
    cost_of,
)

__all__ = ["CostResult", "ModelPrice", "PriceTable", "PricingConfig", "PricingError", "cost_of"]
