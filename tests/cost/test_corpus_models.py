"""Every model named by a billed line in the real corpus has a price in the bundled table."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sessionlens.cost import PriceTable, cost_of
from sessionlens.models import TokenUsage


def _corpus() -> Path:
    default = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
    path = Path(os.environ.get("SESSIONLENS_CORPUS", default))
    if not path.is_dir():
        pytest.skip(f"corpus not found at {path} (set SESSIONLENS_CORPUS)")
    return path


def _billed_models(root: Path) -> set[str]:
    models: set[str] = set()
    for path in sorted(root.rglob("*.jsonl")):
        with path.open("rb") as fh:
            for raw in fh:
                if b'"model"' not in raw:
                    continue
                try:
                    line = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(line, dict):
                    continue
                if line.get("type") == "assistant" and isinstance(line.get("message"), dict):
                    model = line["message"].get("model")  # Claude billed response
                elif line.get("type") == "turn_context" and isinstance(line.get("payload"), dict):
                    model = line["payload"].get("model")  # Codex model for following token_counts
                else:
                    continue
                if isinstance(model, str) and model != "<synthetic>":
                    models.add(model)
    return models


def test_corpus_models_are_priced():
    models = _billed_models(_corpus())
    assert models, "no billed models found in the corpus"
    table = PriceTable.default()
    for model in sorted(models):
        result = cost_of(TokenUsage(input_tokens=1_000, output_tokens=1_000), model, table)
        assert result.known and result.usd > 0, (model, result.reason)
