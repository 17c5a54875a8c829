"""Model price table and per-request cost computation.

Prices are USD per token in LiteLLM's field names (``model_prices_and_context_window.json``), so a
LiteLLM file can be imported as is.  The bundled table is ``pricing.json`` next to this module.

Precedence: user ``overrides`` > an imported LiteLLM file > the bundled table.

``cost_of`` prices ONE billed request (one deduplicated ``UsageRecord``).  The Claude 200k tier is
applied per request, so callers must price each record and sum the costs; pricing a usage summed
over many requests would put most of it in the above-200k tier.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sessionlens.agents import registry as agent_registry

if TYPE_CHECKING:  # annotations only: pricing a report's rows builds no model
    from sessionlens.models.session import TokenUsage

log = logging.getLogger(__name__)

TIER_THRESHOLD = 200_000
"""Tokens of one category in one request priced at the base rate before ``*_above_200k_tokens``."""

_CLAUDE_CACHE_WRITE_FACTOR = 1.25  # 5-minute cache write price when the table has none
_CLAUDE_CACHE_READ_FACTOR = 0.1  # cache read price when the table has none (Anthropic)
_CLAUDE_CACHE_WRITE_1H_FACTOR = 2.0  # 1-hour cache write price when the table has none

# LiteLLM modes that bill tokens of a chat-style model; other entries (embeddings, images, audio...)
# are not imported.  Entries without a mode are kept.
_TOKEN_MODES = {"chat", "completion", "responses"}

_DATE_SUFFIX = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")
_NOT_MODEL = {"", "<synthetic>"}


class PricingError(ValueError):
    """A price table or LiteLLM file could not be read."""


class ModelPrice(BaseModel):
    """Prices of one model, USD per token, in LiteLLM's field names.  Unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    input_cost_per_token: float | None = Field(None, ge=0, description="Uncached prompt tokens, USD per token.")
    output_cost_per_token: float | None = Field(None, ge=0, description="Output tokens (including reasoning tokens), USD per token.")
    cache_creation_input_token_cost: float | None = Field(
        None, ge=0, description="5-minute prompt-cache writes, USD per token (Claude). Default: 1.25 x input."
    )
    cache_creation_input_token_cost_above_1hr: float | None = Field(
        None, ge=0, description="1-hour prompt-cache writes, USD per token (Claude). Default: 2 x input."
    )
    cache_read_input_token_cost: float | None = Field(
        None,
        ge=0,
        description="Prompt tokens read from cache, USD per token. Default: 0.1 x input for Claude, "
        "the input price for OpenAI/Codex models.",
    )
    input_cost_per_token_above_200k_tokens: float | None = Field(
        None, ge=0, description="Uncached prompt tokens beyond 200k in one request, USD per token."
    )
    output_cost_per_token_above_200k_tokens: float | None = Field(
        None, ge=0, description="Output tokens beyond 200k in one request, USD per token."
    )
    cache_creation_input_token_cost_above_200k_tokens: float | None = Field(
        None, ge=0, description="5-minute cache writes beyond 200k in one request, USD per token."
    )
    cache_read_input_token_cost_above_200k_tokens: float | None = Field(
        None, ge=0, description="Cache reads beyond 200k in one request, USD per token."
    )
    max_input_tokens: int | None = Field(None, ge=0, description="Context window size (informational).")
    litellm_provider: str | None = Field(
        None, description="Provider, e.g. 'anthropic' or 'openai'; selects the Claude or OpenAI pricing rules."
    )
    mode: str | None = Field(None, description="LiteLLM mode, e.g. 'chat'. Non-token modes are not imported.")
    provider_specific_entry: dict[str, Any] | None = Field(
        None, description="Provider extras; 'fast' is the price multiplier for fast mode."
    )

    @property
    def fast_multiplier(self) -> float | None:
        """The fast-mode multiplier from ``provider_specific_entry.fast``, if the table gives one."""
        value = (self.provider_specific_entry or {}).get("fast")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
            return float(value)
        return None


class PricingConfig(BaseModel):
    """The ``pricing`` section of the sessionlens configuration."""

    model_config = ConfigDict(extra="forbid")

    overrides: dict[str, ModelPrice] = Field(
        default_factory=dict,
        description="Model name -> prices. Replaces the given fields of a known model (null clears a field) "
        "or adds a new model. Also applies to dated and provider-prefixed spellings of the name.",
    )
    litellm_file: str | None = Field(
        None,
        description="Path to a LiteLLM model_prices_and_context_window.json whose entries replace the bundled ones.",
    )


class CostResult(BaseModel):
    """The cost of one request.  ``usd`` is None when it cannot be computed (never silently 0)."""

    model_config = ConfigDict(frozen=True)

    usd: float | None
    known: bool
    model_key: str | None = None  # the price-table key that was used
    reason: str | None = None  # why the cost is unknown, or a caveat about a known cost


def _norm(name: str) -> str:
    """Lower-case, drop any provider prefix (``anthropic/``), map ``.`` and ``@`` to ``-``."""
    name = name.strip().lower().rsplit("/", 1)[-1]
    return name.replace(".", "-").replace("@", "-")


def _strip_date(name: str) -> str:
    return _DATE_SUFFIX.sub("", name)


def _contains_at_boundary(haystack: str, needle: str) -> bool:
    """True when ``needle`` occurs in ``haystack`` delimited by non-alphanumerics or the ends."""
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle)
        before_ok = start == 0 or not haystack[start - 1].isalnum()
        after_ok = end == len(haystack) or not haystack[end].isalnum()
        if before_ok and after_ok:
            return True
        start = haystack.find(needle, start + 1)
    return False


class _Layer:
    """One set of model entries with the indexes used by lookup."""

    def __init__(self, models: dict[str, ModelPrice]):
        self.models = models
        self.lower: dict[str, str] = {}
        self.normal: dict[str, str] = {}
        self.undated: dict[str, str] = {}
        # Bare keys win over provider-prefixed ones with the same normal form; then the newest date.
        for key in sorted(models, key=lambda k: ("/" in k, len(k), k)):
            self.lower.setdefault(key.lower(), key)
            self.normal.setdefault(_norm(key), key)
        # For an undated name, the newest dated key (bare keys first).
        newest_first = sorted(sorted(models, key=_norm, reverse=True), key=lambda k: "/" in k)
        for key in newest_first:
            nk = _norm(key)
            if _strip_date(nk) != nk:
                self.undated.setdefault(_strip_date(nk), key)

    def exact(self, model: str) -> str | None:
        if model in self.models:
            return model
        return self.lower.get(model.lower())

    def normalised(self, nm: str) -> str | None:
        """Provider prefix / ``.``/``@`` / date-suffix matching in both directions."""
        base = _strip_date(nm)
        for found in (self.normal.get(nm), self.normal.get(base), self.undated.get(nm), self.undated.get(base)):
            if found is not None:
                return found
        return None

    def fuzzy(self, nm: str) -> tuple[int, str] | None:
        """The longest key contained in the model name at non-alphanumeric boundaries."""
        best: tuple[int, str] | None = None
        for nk, key in self.normal.items():
            if len(nk) >= 3 and _contains_at_boundary(nm, nk) and (best is None or len(nk) > best[0]):
                best = (len(nk), key)
        return best


class PriceTable:
    """An immutable price table: bundled prices, an optional LiteLLM import and user overrides."""

    def __init__(
        self,
        models: dict[str, ModelPrice],
        aliases: dict[str, str] | None = None,
        *,
        overrides: dict[str, ModelPrice] | None = None,
        version: str = "custom",
        updated: str | None = None,
    ):
        self.version = version
        self.updated = updated
        self.aliases: dict[str, str] = dict(aliases or {})
        self._aliases_norm = {_norm(k): v for k, v in self.aliases.items()}
        self._base = _Layer(dict(models))
        self._overrides = _Layer(dict(overrides or {}))

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def default(cls) -> "PriceTable":
        """The table bundled with sessionlens (``sessionlens/cost/pricing.json``)."""
        return _default_table()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PriceTable":
        """Build a table from ``{"models": {key: entry}, "aliases": {...}, "version", "updated"}``."""
        if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
            raise PricingError("a price table must be a JSON object with a 'models' object")
        models: dict[str, ModelPrice] = {}
        for key, entry in data["models"].items():
            try:
                models[str(key)] = ModelPrice.model_validate(entry)
            except ValidationError as exc:
                raise PricingError(f"invalid prices for model {key!r}: {exc.errors()[0]['msg']}") from exc
        aliases = data.get("aliases") or {}
        if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
            raise PricingError("'aliases' must map model names to model names")
        return cls(
            models,
            {str(k): v for k, v in aliases.items()},
            version=str(data.get("version", "custom")),
            updated=data.get("updated"),
        )

    @classmethod
    def from_config(cls, config: PricingConfig, base: "PriceTable | None" = None) -> "PriceTable":
        """``base`` (default: bundled) + the configured LiteLLM file + the configured overrides."""
        table = base or cls.default()
        if config.litellm_file:
            table = table.import_litellm(config.litellm_file)
        if config.overrides:
            table = table.with_overrides(config.overrides)
        return table

    def _copy(
        self,
        *,
        models: dict[str, ModelPrice] | None = None,
        overrides: dict[str, ModelPrice] | None = None,
        version: str | None = None,
    ) -> "PriceTable":
        return PriceTable(
            self._base.models if models is None else models,
            self.aliases,
            overrides=self._overrides.models if overrides is None else overrides,
            version=version or self.version,
            updated=self.updated,
        )

    def with_overrides(self, overrides: Mapping[str, dict[str, Any] | ModelPrice]) -> "PriceTable":
        """A new table where user overrides replace fields of known models or add new models.

        An override for a known name (also matched through aliases, dates and prefixes) starts from
        that model's prices and replaces only the fields it sets; a field set to null is cleared.
        Overrides win over every other entry for the names they match without fuzzy matching.
        """
        merged = dict(self._overrides.models)
        for name, entry in overrides.items():
            if isinstance(entry, ModelPrice):
                fields = entry.model_dump(exclude_unset=True)
            elif isinstance(entry, dict):
                fields = entry
            else:
                raise PricingError(f"override for {name!r} must be an object of prices")
            found = self.lookup(name, fuzzy=False)
            start = found[1].model_dump(exclude_none=True) if found else {}
            try:
                merged[str(name)] = ModelPrice.model_validate({**start, **fields})
            except ValidationError as exc:
                raise PricingError(f"invalid override for model {name!r}: {exc.errors()[0]['msg']}") from exc
        return self._copy(overrides=merged, version=f"{self.version}+overrides")

    def import_litellm(self, source: str | Path | dict[str, Any]) -> "PriceTable":
        """A new table with the entries of a LiteLLM ``model_prices_and_context_window.json``.

        ``source`` is a path or the parsed JSON.  ``sample_spec``, non-token modes (embedding,
        image generation, ...) and entries without token prices are skipped; invalid entries are
        logged and skipped.  Imported entries replace bundled entries with the same key.
        """
        if isinstance(source, (str, Path)):
            try:
                data = json.loads(Path(source).read_text(encoding="utf-8"))
            except OSError as exc:
                raise PricingError(f"cannot read LiteLLM price file {source}: {exc.strerror or exc}") from exc
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise PricingError(f"LiteLLM price file {source} is not valid JSON: {exc}") from exc
        else:
            data = source
        if not isinstance(data, dict):
            raise PricingError("a LiteLLM price file must be a JSON object of model entries")
        models = dict(self._base.models)
        imported = 0
        for key, entry in data.items():
            if key == "sample_spec" or not isinstance(entry, dict):
                continue
            mode = entry.get("mode")
            if mode is not None and mode not in _TOKEN_MODES:
                continue
            if entry.get("input_cost_per_token") is None and entry.get("output_cost_per_token") is None:
                continue
            try:
                models[str(key)] = ModelPrice.model_validate(entry)
            except ValidationError as exc:
                log.warning("skipping LiteLLM entry %r: %s", key, exc.errors()[0]["msg"])
                continue
            imported += 1
        log.info("imported %d LiteLLM price entries", imported)
        return self._copy(models=models, version=f"{self.version}+litellm")

    # -- lookup -------------------------------------------------------------------------------

    @property
    def models(self) -> dict[str, ModelPrice]:
        """All entries, overrides replacing same-named base entries."""
        return {**self._base.models, **self._overrides.models}

    def lookup(self, model: str | None, *, fuzzy: bool = True) -> tuple[str, ModelPrice] | None:
        """Find the prices for a model name as it appears in a log.

        Tried in order, user overrides before the other entries: the exact key (case-insensitive)
        or the name without provider prefix, with ``.``/``@`` as ``-`` and with or without a date
        suffix (``claude-sonnet-4-5-20250929`` <-> ``claude-sonnet-4-5``); then the ``aliases``
        map; finally the longest key contained in the name at non-alphanumeric
        boundaries (``claude-opus-4-6-fast`` -> ``claude-opus-4-6``).  ``None`` and
        ``<synthetic>`` are not models.
        """
        return self._lookup(model, fuzzy, set())

    def _lookup(self, model: str | None, fuzzy: bool, seen: set[str]) -> tuple[str, ModelPrice] | None:
        if model is None or model.strip() in _NOT_MODEL:
            return None
        model = model.strip()
        layers = (self._overrides, self._base)
        nm = _norm(model)
        seen.add(nm)
        for layer in layers:
            key = layer.exact(model) or layer.normalised(nm)
            if key is not None:
                return key, layer.models[key]
        for name in (nm, _strip_date(nm)):
            target = self._aliases_norm.get(name)
            if target is not None and _norm(target) not in seen:
                found = self._lookup(target, False, seen)
                if found is not None:
                    return found
        if not fuzzy:
            return None
        best: tuple[int, str, _Layer] | None = None
        for layer in layers:
            hit = layer.fuzzy(nm)
            if hit is not None and (best is None or hit[0] > best[0]):
                best = (hit[0], hit[1], layer)
        if best is None:
            return None
        return best[1], best[2].models[best[1]]


@lru_cache(maxsize=1)
def _default_table() -> PriceTable:
    text = resources.files("sessionlens.cost").joinpath("pricing.json").read_text(encoding="utf-8")
    return PriceTable.from_dict(json.loads(text))


def _tier(tokens: int, base: float, above: float | None) -> float:
    """``tokens`` at ``base``, the part beyond 200k at ``above`` when the table has such a price."""
    if tokens <= TIER_THRESHOLD or above is None:
        return tokens * base
    return TIER_THRESHOLD * base + (tokens - TIER_THRESHOLD) * above


def _family(key: str, price: ModelPrice, model: str, agent: str | None, usage: TokenUsage) -> Literal["anthropic", "openai", "google"]:
    """Which provider's rules apply: the entry's provider, else the names, else the agent."""
    provider = (price.litellm_provider or "").lower()
    if "anthropic" in provider or provider == "claude":
        return "anthropic"
    if provider in {"gemini", "vertex_ai", "google"} or provider.startswith("vertex_ai"):
        return "google"
    if provider in {"openai", "azure", "codex", "chatgpt"} or provider.startswith("azure"):
        return "openai"
    for name in (_norm(key), _norm(model)):
        if "claude" in name:
            return "anthropic"
        if re.match(r"(gpt|o\d|codex|chatgpt)(-|$)", name):
            return "openai"
        if name.startswith("gemini"):
            return "google"
    adapter = agent_registry.get(getattr(agent, "value", agent)) if agent else None
    fam = adapter.pricing_family if adapter is not None else None
    if fam in ("anthropic", "openai", "google"):
        return fam  # type: ignore[return-value]
    return "anthropic" if usage.cache_write_5m_tokens or usage.cache_write_1h_tokens else "openai"


def cost_of(
    usage: TokenUsage,
    model: str | None,
    table: PriceTable,
    *,
    agent: str | None = None,
    speed: str | None = None,
) -> CostResult:
    """The USD cost of one billed request (one deduplicated usage record).

    Claude rules: each token category (input, output, 5-minute and 1-hour cache writes, cache
    reads) is priced per request with the ``*_above_200k_tokens`` price for the part beyond 200k
    tokens when the table has one; 1-hour writes cost ``cache_creation_input_token_cost_above_1hr``
    or 2x input.  OpenAI/Codex rules: uncached input at the input price, cache reads at the
    cache-read price or the input price when the table has none, output (which includes reasoning)
    at the output price, no cache-write premium.  ``speed == "fast"`` applies the table's fast
    multiplier (``provider_specific_entry.fast``) when it has one.
    """
    if model is None or model.strip() in _NOT_MODEL:
        return CostResult(usd=None, known=False, reason="no model recorded")
    found = table.lookup(model)
    if found is None:
        return CostResult(usd=None, known=False, reason=f"unknown model {model!r}")
    key, price = found
    if price.input_cost_per_token is None or price.output_cost_per_token is None:
        missing = "input" if price.input_cost_per_token is None else "output"
        return CostResult(usd=None, known=False, model_key=key, reason=f"no {missing} price for model {key!r}")
    inp, out = price.input_cost_per_token, price.output_cost_per_token
    notes: list[str] = []

    family = _family(key, price, model, agent, usage)
    if family == "google":
        # Gemini: a prompt over 200k tokens prices the whole request at the long-context rates;
        # cache reads at the cache price (else the input price); thoughts are in the output.
        long = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_5m_tokens + usage.cache_write_1h_tokens > TIER_THRESHOLD
        i = price.input_cost_per_token_above_200k_tokens if long and price.input_cost_per_token_above_200k_tokens else inp
        o = price.output_cost_per_token_above_200k_tokens if long and price.output_cost_per_token_above_200k_tokens else out
        read = price.cache_read_input_token_cost_above_200k_tokens if long else None
        read = read if read is not None else price.cache_read_input_token_cost
        read = i if read is None else read
        writes = usage.cache_write_5m_tokens + usage.cache_write_1h_tokens
        usd = (usage.input_tokens + writes) * i + usage.cache_read_tokens * read + usage.output_tokens * o
    elif family == "anthropic":
        inp_hi = price.input_cost_per_token_above_200k_tokens
        write = price.cache_creation_input_token_cost
        write = inp * _CLAUDE_CACHE_WRITE_FACTOR if write is None else write
        write_1h = price.cache_creation_input_token_cost_above_1hr
        write_1h = inp * _CLAUDE_CACHE_WRITE_1H_FACTOR if write_1h is None else write_1h
        write_1h_hi = write_1h * (inp_hi / inp) if inp_hi is not None and inp > 0 else None
        read = price.cache_read_input_token_cost
        read = inp * _CLAUDE_CACHE_READ_FACTOR if read is None else read
        usd = (
            _tier(usage.input_tokens, inp, inp_hi)
            + _tier(usage.output_tokens, out, price.output_cost_per_token_above_200k_tokens)
            + _tier(usage.cache_write_5m_tokens, write, price.cache_creation_input_token_cost_above_200k_tokens)
            + _tier(usage.cache_write_1h_tokens, write_1h, write_1h_hi)
            + _tier(usage.cache_read_tokens, read, price.cache_read_input_token_cost_above_200k_tokens)
        )
    else:
        read = price.cache_read_input_token_cost
        read = inp if read is None else read
        # OpenAI has no cache writes; should a record carry some they are still prompt tokens.
        writes = usage.cache_write_5m_tokens + usage.cache_write_1h_tokens
        usd = (usage.input_tokens + writes) * inp + usage.cache_read_tokens * read + usage.output_tokens * out

    if speed is not None and speed.lower() == "fast":
        multiplier = price.fast_multiplier
        if multiplier is None:
            notes.append(f"fast mode: no fast multiplier for {key!r}, priced at standard rates")
        else:
            usd *= multiplier
    return CostResult(usd=usd, known=True, model_key=key, reason="; ".join(notes) or None)
