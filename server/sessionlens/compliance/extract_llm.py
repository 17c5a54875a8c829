"""LLM extraction: turn free-text guidelines into checks, cached per file hash.

The extraction runs on demand (the LSP command ``sessionlens.extractGuidelines``, or
``sessionlens rules --extract``) and stores its structured output in the store's ``llm_cache``
under ``guidelines:<sha256 of the file text>``.  The checker reads that cache synchronously, so
indexing never calls the network.  Annotations and built-in recognizers take precedence.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from sessionlens.coach.llm import CoachLLM
from sessionlens.compliance.checker import EXTRACT_CACHE_PREFIX
from sessionlens.compliance.guidelines import Check, parse_guidelines, text_hash

log = logging.getLogger(__name__)

SYSTEM = (
    "You turn rules for an AI coding agent into machine checks over its session log. For each numbered "
    "guideline decide whether it can be checked from the shell commands the agent ran, the tools it called and "
    'the files it edited. Answer with JSON only: {"guidelines": [{"line": N, "check": {...}}]} listing only '
    "checkable guidelines. A check has optional keys: must_run, must_not_run, trigger (lists of Python regexes "
    "searched in shell commands), must_use, must_not_use (lists of tool names), must_not_edit, files (lists of "
    "file globs), when (always|edit|run|tool). Never invent checks for guidelines about style or communication."
)


def _json_block(text: str) -> Any:
    m = re.search(r"\{.*\}", text, re.S)
    if not m:
        raise ValueError("the model's answer holds no JSON object")
    return json.loads(m.group(0))


async def extract(text: str, path: str, llm: CoachLLM, *, cache_get, cache_put, model: str | None = None) -> dict[str, Any]:
    """Checks for the not-yet-checkable guidelines of one file; cached per file hash.

    Returns ``{"cached": bool, "guidelines": [{"line", "key", "check"}]}``.  Invalid checks in the
    answer (bad regexes, unknown lines) are dropped.
    """
    key = EXTRACT_CACHE_PREFIX + text_hash(text)
    hit = cache_get(key)
    if hit:
        return {"cached": True, **json.loads(hit)}
    todo = [g for g in parse_guidelines(text, path) if g.check is None and not g.errors]
    items: list[dict[str, Any]] = []
    if todo:
        numbered = "\n".join(f"{g.line}. {g.text}" for g in todo)
        answer = await llm.complete(SYSTEM, [{"role": "user", "content": f"Guidelines from {path.rsplit('/', 1)[-1]}:\n{numbered}"}])
        by_line = {g.line: g for g in todo}
        try:
            data = _json_block(answer)
        except (ValueError, json.JSONDecodeError) as e:
            raise ValueError(f"could not read the extraction answer: {e}") from None
        for item in data.get("guidelines") or [] if isinstance(data, dict) else []:
            if not isinstance(item, dict):
                continue
            try:
                g = by_line.get(int(item.get("line", "")))
            except (TypeError, ValueError):
                continue
            check = Check.from_dict(item.get("check") or {}) if isinstance(item.get("check"), dict) else Check()
            if g is None or check.is_empty() or check.validate():
                continue
            items.append({"line": g.line, "key": g.key, "check": check.to_dict()})
    result = {"guidelines": items}
    cache_put(key, "guidelines", model, json.dumps(result))
    return {"cached": False, **result}
