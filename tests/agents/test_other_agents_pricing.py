"""Prices for the models these agents' corpus sessions name: which resolve, to which bundled key, and
which stay unknown (no reference price: pricing-reference.json has none for them)."""

from __future__ import annotations

import pytest

from sessionlens.cost.pricing import PriceTable


@pytest.mark.parametrize(
    "model, key",
    [
        ("claude-sonnet-4.6", "claude-sonnet-4-6"),  # Copilot CLI writes dots
        ("claude-opus-4.6", "claude-opus-4-6"),
        ("claude-haiku-4.5", "claude-haiku-4-5"),
        ("gpt-5-mini", "gpt-5-mini"),
        ("claude-sonnet-4-6", "claude-sonnet-4-6"),  # OpenCode
        ("claude-4-sonnet", "claude-sonnet-4-20250514"),  # Go OpenCode's family-last names
        ("claude-4-opus", "claude-opus-4-20250514"),
        ("gpt-5", "gpt-5"),  # Crush
        ("gpt-4.1", None),
        ("gpt-4o-mini", None),
        ("o4-mini", None),
        ("claude-3.7-sonnet", None),
        ("gemini-2.5", None),
    ],
)
def test_models_of_these_agents(model, key):
    found = PriceTable.default().lookup(model)
    assert (found[0] if found else None) == key
