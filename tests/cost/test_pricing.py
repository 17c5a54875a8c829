"""Pricing rules, with expected values computed from the table's own prices."""

from __future__ import annotations

import json

import pytest

from sessionlens.cost import CostResult, ModelPrice, PriceTable, PricingConfig, PricingError, cost_of
from sessionlens.models import TokenUsage

K = 200_000


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.default()


def price(table: PriceTable, key: str) -> ModelPrice:
    found = table.lookup(key)
    assert found is not None and found[0] == key
    return found[1]


# -- bundled table ----------------------------------------------------------------------------


def test_bundled_table_covers_corpus_models_with_litellm_fields(table):
    for key in ("claude-opus-4-6", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "gpt-5.2-codex", "gpt-5"):
        p = price(table, key)
        assert p.input_cost_per_token > 0 and p.output_cost_per_token > p.input_cost_per_token
        assert p.max_input_tokens and p.max_input_tokens >= 128_000
    assert price(table, "claude-sonnet-4-5").input_cost_per_token_above_200k_tokens == pytest.approx(6e-06)
    assert table.aliases == {
        "gpt-5.3-codex": "gpt-5.2-codex",
        "gpt-5-codex": "gpt-5",
        "gemini-3.1-pro-preview-customtools": "gemini-3.1-pro-preview",
        "claude-4-sonnet": "claude-sonnet-4-20250514",
        "claude-4-opus": "claude-opus-4-20250514",
    }
    assert table.version and table.updated


def test_bundled_table_matches_reference_prices(table):
    reference = {
        "claude-opus-4-6": (5e-06, 2.5e-05, 6.25e-06, 5e-07),
        "gpt-5.2-codex": (1.75e-06, 1.4e-05, None, 1.75e-07),
    }
    for key, (inp, out, write, read) in reference.items():
        p = price(table, key)
        assert (p.input_cost_per_token, p.output_cost_per_token) == (inp, out)
        assert (p.cache_creation_input_token_cost, p.cache_read_input_token_cost) == (write, read)


# -- Claude rules -----------------------------------------------------------------------------


def test_claude_basic_categories(table):
    p = price(table, "claude-opus-4-6")
    usage = TokenUsage(input_tokens=1_000, output_tokens=2_000, cache_write_5m_tokens=3_000, cache_read_tokens=4_000)
    result = cost_of(usage, "claude-opus-4-6", table)
    expected = (
        1_000 * p.input_cost_per_token
        + 2_000 * p.output_cost_per_token
        + 3_000 * p.cache_creation_input_token_cost
        + 4_000 * p.cache_read_input_token_cost
    )
    assert result.usd == pytest.approx(expected)
    assert (result.known, result.model_key, result.reason) == (True, "claude-opus-4-6", None)


def test_claude_cache_writes_5m_vs_1h(table):
    p = price(table, "claude-opus-4-6")
    assert p.cache_creation_input_token_cost_above_1hr is None  # so the 2x input rule applies
    five = cost_of(TokenUsage(cache_write_5m_tokens=10_000), "claude-opus-4-6", table).usd
    hour = cost_of(TokenUsage(cache_write_1h_tokens=10_000), "claude-opus-4-6", table).usd
    assert five == pytest.approx(10_000 * p.cache_creation_input_token_cost)
    assert hour == pytest.approx(10_000 * 2 * p.input_cost_per_token)
    assert hour > five


def test_claude_explicit_1h_price_is_used():
    t = PriceTable.from_dict(
        {
            "models": {
                "claude-x": {
                    "input_cost_per_token": 1e-06,
                    "output_cost_per_token": 5e-06,
                    "cache_creation_input_token_cost_above_1hr": 3e-06,
                    "litellm_provider": "anthropic",
                }
            }
        }
    )
    assert cost_of(TokenUsage(cache_write_1h_tokens=1_000), "claude-x", t).usd == pytest.approx(1_000 * 3e-06)


def test_claude_cache_defaults_when_table_has_none():
    t = PriceTable.from_dict({"models": {"claude-x": {"input_cost_per_token": 1e-06, "output_cost_per_token": 5e-06}}})
    usage = TokenUsage(cache_write_5m_tokens=1_000, cache_read_tokens=1_000)
    assert cost_of(usage, "claude-x", t).usd == pytest.approx(1_000 * 1.25e-06 + 1_000 * 0.1e-06)


def test_claude_tier_above_200k_per_category(table):
    p = price(table, "claude-sonnet-4-5")
    n = 250_000
    usage = TokenUsage(input_tokens=n, output_tokens=n, cache_write_5m_tokens=n, cache_read_tokens=n, cache_write_1h_tokens=n)
    above = n - K
    hi_ratio = p.input_cost_per_token_above_200k_tokens / p.input_cost_per_token
    expected = (
        K * p.input_cost_per_token
        + above * p.input_cost_per_token_above_200k_tokens
        + K * p.output_cost_per_token
        + above * p.output_cost_per_token_above_200k_tokens
        + K * p.cache_creation_input_token_cost
        + above * p.cache_creation_input_token_cost_above_200k_tokens
        + K * p.cache_read_input_token_cost
        + above * p.cache_read_input_token_cost_above_200k_tokens
        + K * 2 * p.input_cost_per_token
        + above * 2 * p.input_cost_per_token * hi_ratio
    )
    assert cost_of(usage, "claude-sonnet-4-5-20250929", table).usd == pytest.approx(expected)
    # exactly 200k stays at the base price
    at = cost_of(TokenUsage(input_tokens=K), "claude-sonnet-4-5", table).usd
    assert at == pytest.approx(K * p.input_cost_per_token)


def test_claude_no_tier_without_above_200k_prices(table):
    p = price(table, "claude-opus-4-6")
    assert p.input_cost_per_token_above_200k_tokens is None
    assert cost_of(TokenUsage(input_tokens=300_000), "claude-opus-4-6", table).usd == pytest.approx(300_000 * p.input_cost_per_token)


# -- Codex / OpenAI rules ---------------------------------------------------------------------


def test_codex_cached_input_at_explicit_cache_read_price(table):
    p = price(table, "gpt-5.2-codex")
    usage = TokenUsage(input_tokens=10_000, cache_read_tokens=90_000, output_tokens=5_000, reasoning_tokens=4_000)
    expected = 10_000 * p.input_cost_per_token + 90_000 * p.cache_read_input_token_cost + 5_000 * p.output_cost_per_token
    assert cost_of(usage, "gpt-5.2-codex", table, agent="codex").usd == pytest.approx(expected)


def test_codex_cached_input_at_input_price_without_cache_read_price():
    t = PriceTable.from_dict(
        {"models": {"gpt-x": {"input_cost_per_token": 2e-06, "output_cost_per_token": 8e-06, "litellm_provider": "openai"}}}
    )
    usage = TokenUsage(input_tokens=1_000, cache_read_tokens=9_000, output_tokens=500)
    assert cost_of(usage, "gpt-x", t).usd == pytest.approx(10_000 * 2e-06 + 500 * 8e-06)


def test_openai_rules_have_no_tier_and_no_cache_write_premium(table):
    p = price(table, "gpt-5.4")
    usage = TokenUsage(input_tokens=300_000, cache_write_5m_tokens=1_000)
    assert cost_of(usage, "gpt-5.4", table).usd == pytest.approx(301_000 * p.input_cost_per_token)


def test_provider_comes_from_the_entry_not_the_agent():
    t = PriceTable.from_dict(
        {"models": {"m": {"input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06, "litellm_provider": "openai"}}}
    )
    # An OpenAI entry keeps OpenAI rules (cache reads at the input price) even when agent says claude.
    assert cost_of(TokenUsage(cache_read_tokens=1_000), "m", t, agent="claude").usd == pytest.approx(1_000 * 1e-06)
    # Without a provider or telling name, the agent decides.
    t2 = PriceTable.from_dict({"models": {"m": {"input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06}}})
    assert cost_of(TokenUsage(cache_read_tokens=1_000), "m", t2, agent="claude").usd == pytest.approx(1_000 * 0.1e-06)
    assert cost_of(TokenUsage(cache_read_tokens=1_000), "m", t2, agent="codex").usd == pytest.approx(1_000 * 1e-06)


# -- fast mode --------------------------------------------------------------------------------


def test_fast_multiplier_from_table():
    t = PriceTable.from_dict(
        {"models": {"claude-f": {"input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06, "provider_specific_entry": {"fast": 6}}}}
    )
    usage = TokenUsage(input_tokens=1_000)
    assert cost_of(usage, "claude-f", t, speed="fast").usd == pytest.approx(6 * 1_000 * 1e-06)
    assert cost_of(usage, "claude-f", t).usd == pytest.approx(1_000 * 1e-06)


def test_fast_without_multiplier_is_standard_rate_with_a_note(table):
    p = price(table, "gpt-5")
    result = cost_of(TokenUsage(output_tokens=1_000), "gpt-5", table, speed="fast")
    assert result.known and result.usd == pytest.approx(1_000 * p.output_cost_per_token)
    assert "fast" in result.reason


# -- unknown models ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["llama-3-70b", "mystery"])
def test_unknown_model_is_not_zero(table, model):
    result = cost_of(TokenUsage(input_tokens=1_000), model, table)
    assert result == CostResult(usd=None, known=False, model_key=None, reason=f"unknown model {model!r}")


@pytest.mark.parametrize("model", [None, "<synthetic>", ""])
def test_no_model(table, model):
    assert table.lookup(model) is None
    result = cost_of(TokenUsage(input_tokens=1_000), model, table)
    assert result.usd is None and not result.known


def test_entry_without_output_price_is_unknown():
    t = PriceTable.from_dict({"models": {"half": {"input_cost_per_token": 1e-06}}})
    result = cost_of(TokenUsage(input_tokens=1), "half", t)
    assert result.usd is None and not result.known and result.model_key == "half"


# -- lookup -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "key"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"),
        ("anthropic/claude-opus-4-6", "claude-opus-4-6"),
        ("openai/gpt-5.1", "gpt-5.1"),
        ("claude-opus-4.6", "claude-opus-4-6"),
        ("claude-opus-4-6@20260205", "claude-opus-4-6-20260205"),
        ("Claude-Opus-4-6", "claude-opus-4-6"),
        ("claude-sonnet-4", "claude-sonnet-4-20250514"),  # undated name -> dated key
        ("claude-opus-4-1-20990101", "claude-opus-4-1"),  # unknown date -> undated key
        ("claude-opus-4-7-fast", "claude-opus-4-7"),  # longest key at a boundary
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5-20250929"),
        ("gpt-5-mini-2025-08-07", "gpt-5-mini-2025-08-07"),
        ("gpt-5-mini-2030-01-01", "gpt-5-mini"),  # not "gpt-5": dates stripped before matching
        ("gpt-5.3-codex-spark", "gpt-5.3-codex"),
    ],
)
def test_lookup(table, model, key):
    found = table.lookup(model)
    assert found is not None and found[0] == key


def test_lookup_does_not_match_inside_words(table):
    assert table.lookup("xgpt-5y") is None
    assert table.lookup("gpt-50") is None


def test_aliases_apply_when_the_model_has_no_entry_of_its_own():
    t = PriceTable.from_dict(
        {
            "models": {
                "gpt-5.2-codex": {"input_cost_per_token": 1.75e-06, "output_cost_per_token": 1.4e-05},
                "gpt-5": {"input_cost_per_token": 1.25e-06, "output_cost_per_token": 1e-05},
            },
            "aliases": {"gpt-5.3-codex": "gpt-5.2-codex", "gpt-5-codex": "gpt-5"},
        }
    )
    assert t.lookup("gpt-5.3-codex")[0] == "gpt-5.2-codex"  # without the alias "gpt-5" would match
    assert t.lookup("openai/gpt-5-codex")[0] == "gpt-5"
    assert cost_of(TokenUsage(output_tokens=10), "gpt-5.3-codex", t).usd == pytest.approx(10 * 1.4e-05)


def test_alias_cycles_terminate():
    t = PriceTable.from_dict({"models": {}, "aliases": {"a-1": "b-1", "b-1": "a-1"}})
    assert t.lookup("a-1") is None


# -- overrides --------------------------------------------------------------------------------


def test_overrides_replace_fields_and_add_models(table):
    p = price(table, "claude-sonnet-4-5")
    t = table.with_overrides(
        {
            "claude-sonnet-4-5": {"input_cost_per_token": 1e-05},
            "my-local-model": {"input_cost_per_token": 1e-07, "output_cost_per_token": 2e-07},
        }
    )
    replaced = t.lookup("claude-sonnet-4-5")[1]
    assert replaced.input_cost_per_token == 1e-05
    assert replaced.output_cost_per_token == p.output_cost_per_token  # untouched fields kept
    # the override also covers the dated spelling that has its own bundled entry
    assert t.lookup("claude-sonnet-4-5-20250929") == ("claude-sonnet-4-5", replaced)
    assert cost_of(TokenUsage(input_tokens=100, output_tokens=100), "my-local-model", t).usd == pytest.approx(100 * 1e-07 + 100 * 2e-07)
    # the original table is unchanged
    assert table.lookup("claude-sonnet-4-5")[1].input_cost_per_token == p.input_cost_per_token
    # a short override does not capture longer model names
    t2 = table.with_overrides({"gpt-5": {"input_cost_per_token": 9e-06}})
    assert t2.lookup("gpt-5-mini")[1].input_cost_per_token == price(table, "gpt-5-mini").input_cost_per_token
    assert t2.lookup("gpt-5-2025-08-07")[1].input_cost_per_token == 9e-06


def test_override_null_clears_a_field(table):
    t = table.with_overrides({"claude-sonnet-4-5": {"input_cost_per_token_above_200k_tokens": None}})
    p = t.lookup("claude-sonnet-4-5")[1]
    usd = cost_of(TokenUsage(input_tokens=300_000), "claude-sonnet-4-5", t).usd
    assert usd == pytest.approx(300_000 * p.input_cost_per_token)


def test_invalid_override_raises_clear_error(table):
    with pytest.raises(PricingError, match="my-model"):
        table.with_overrides({"my-model": {"input_cost_per_token": -1}})


def test_from_config_applies_litellm_file_then_overrides(tmp_path, table):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"new-model": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "mode": "chat"}}))
    config = PricingConfig.model_validate(
        {
            "litellm_file": str(path),
            "overrides": {"new-model": {"output_cost_per_token": 3e-06}},
        }
    )
    t = PriceTable.from_config(config, base=table)
    p = t.lookup("new-model")[1]
    assert (p.input_cost_per_token, p.output_cost_per_token) == (1e-06, 3e-06)


# -- LiteLLM import ---------------------------------------------------------------------------


LITELLM = {
    "sample_spec": {"input_cost_per_token": 0, "output_cost_per_token": 0, "mode": "chat or embedding"},
    "claude-opus-4-6": {
        "input_cost_per_token": 6e-06,
        "output_cost_per_token": 3e-05,
        "litellm_provider": "anthropic",
        "mode": "chat",
        "supports_vision": True,
        "cache_creation_input_token_cost_above_1hr": 1e-05,
    },
    "text-embedding-3-large": {"input_cost_per_token": 1.3e-07, "output_cost_per_token": 0, "mode": "embedding"},
    "dall-e-3": {"mode": "image_generation", "output_cost_per_image": 0.04},
    "broken-model": {"input_cost_per_token": "free", "output_cost_per_token": 1, "mode": "chat"},
    "anthropic/claude-new-9": {"input_cost_per_token": 2e-06, "output_cost_per_token": 4e-06, "mode": "chat"},
}


def test_import_litellm_dict(table):
    t = table.import_litellm(LITELLM)
    p = t.lookup("claude-opus-4-6")[1]
    assert p.input_cost_per_token == 6e-06 and p.cache_creation_input_token_cost_above_1hr == 1e-05
    assert cost_of(TokenUsage(cache_write_1h_tokens=1_000), "claude-opus-4-6", t).usd == pytest.approx(1_000 * 1e-05)
    assert t.lookup("text-embedding-3-large") is None
    assert "sample_spec" not in t.models and "dall-e-3" not in t.models and "broken-model" not in t.models
    assert t.lookup("claude-new-9")[0] == "anthropic/claude-new-9"
    assert t.lookup("gpt-5")[1] == price(table, "gpt-5")  # bundled entries not in the file stay
    assert t.version.endswith("+litellm")


def test_import_litellm_file_and_errors(tmp_path, table):
    path = tmp_path / "model_prices_and_context_window.json"
    path.write_text(json.dumps(LITELLM))
    assert table.import_litellm(path).lookup("claude-opus-4-6")[1].input_cost_per_token == 6e-06
    with pytest.raises(PricingError, match="cannot read"):
        table.import_litellm(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(PricingError, match="not valid JSON"):
        table.import_litellm(bad)
    with pytest.raises(PricingError):
        table.import_litellm([1, 2])  # type: ignore[arg-type]


def test_from_dict_rejects_bad_tables():
    with pytest.raises(PricingError):
        PriceTable.from_dict({"nope": 1})
    with pytest.raises(PricingError, match="m1"):
        PriceTable.from_dict({"models": {"m1": {"input_cost_per_token": "x"}}})


def test_gemini_requests_are_priced_by_google_rules(table):
    """Cached tokens at the cache price, thoughts (in output) at the output price, and a prompt over
    200k tokens prices the whole request at the long-context rates."""
    from sessionlens.models import TokenUsage

    u = TokenUsage(input_tokens=3994, cache_read_tokens=7900, output_tokens=68 + 344, reasoning_tokens=344)
    c = cost_of(u, "gemini-3.1-pro-preview-customtools", table, agent="gemini")
    assert c.known and c.usd == pytest.approx(3994 * 2e-6 + 7900 * 2e-7 + 412 * 1.2e-5)
    big = TokenUsage(input_tokens=150_000, cache_read_tokens=60_000, output_tokens=1000)
    c = cost_of(big, "gemini-2.5-pro", table, agent="gemini")
    assert c.usd == pytest.approx(150_000 * 2.5e-6 + 60_000 * 2.5e-7 + 1000 * 1.5e-5)
    small = TokenUsage(input_tokens=150_000, cache_read_tokens=40_000, output_tokens=1000)
    assert cost_of(small, "gemini-2.5-pro", table).usd == pytest.approx(150_000 * 1.25e-6 + 40_000 * 1.25e-7 + 1000 * 1e-5)
