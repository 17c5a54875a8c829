"""Generated Copilot CLI OpenTelemetry file exports (``~/.copilot/otel/*.jsonl``), shaped like the CLI's
file exporter writes them: one JSON record per line, spans at their end (children before the
``invoke_agent`` span of their turn), ``[seconds, nanoseconds]`` times, GenAI attributes, token
counts on ``chat`` spans, and the turn's totals repeated on ``invoke_agent`` (never to be counted
twice), plus ``metric`` records.  Deterministic for a seed; the expected token totals come back with
the file so tests never hard-code them."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

TOOLS = ("bash", "view", "edit", "grep", "create")


@dataclass
class Expected:
    """What a reader must find in the export, per conversation."""

    turns: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    tool_calls: dict[str, int] = field(default_factory=dict)
    failed_tools: dict[str, int] = field(default_factory=dict)
    #: conversation -> {input (whole prompt), cache_read, cache_write, output, reasoning}
    tokens: dict[str, dict[str, int]] = field(default_factory=dict)


def _hr(t: float) -> list[int]:
    return [int(t), int(round((t - int(t)) * 1e9))]


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def generate_copilot_otel(
    rng: random.Random,
    path: Path,
    conversations: list[str],
    *,
    start: float = 1772359200.0,
    turns: int = 3,
    model: str = "claude-sonnet-4.6",
    bad_line: bool = False,
    expected: Expected | None = None,
) -> Expected:
    """Append an export of ``conversations`` (ids) with ``turns`` turns each to ``path``."""
    exp = expected or Expected()
    lines: list[str] = []
    t = start
    for conv in conversations:
        tok = exp.tokens.setdefault(conv, {"input": 0, "cache_read": 0, "cache_write": 0, "output": 0, "reasoning": 0})
        for _ in range(turns):
            trace, root = _hex(rng, 32), _hex(rng, 16)
            t0 = t
            turn_in = turn_out = 0
            for _step in range(rng.randint(1, 3)):
                s0 = t
                t += rng.uniform(0.5, 4.0)
                inp = rng.randint(2000, 40000)
                read = rng.randint(0, inp // 2)
                write = rng.randint(0, (inp - read) // 4)
                out = rng.randint(20, 900)
                reasoning = rng.randint(0, out // 3)
                attrs = {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "github",
                    "gen_ai.request.model": model,
                    "gen_ai.response.model": model,
                    "gen_ai.conversation.id": conv,
                    "gen_ai.usage.input_tokens": inp,
                    "gen_ai.usage.output_tokens": out,
                    "gen_ai.usage.cache_read.input_tokens": read,
                    "gen_ai.usage.cache_creation.input_tokens": write,
                    "gen_ai.usage.reasoning.output_tokens": reasoning,
                    "gen_ai.response.finish_reasons": ["tool_calls"],
                }
                lines.append(
                    json.dumps(
                        {
                            "type": "span",
                            "traceId": trace,
                            "spanId": _hex(rng, 16),
                            "parentSpanId": root,
                            "name": f"chat {model}",
                            "kind": 3,
                            "startTime": _hr(s0),
                            "endTime": _hr(t),
                            "attributes": attrs,
                            "status": {"code": 0},
                            "events": [],
                            "links": [],
                        }
                    )
                )
                for k, v in (("input", inp), ("cache_read", read), ("cache_write", write), ("output", out), ("reasoning", reasoning)):
                    tok[k] += v
                turn_in += inp
                turn_out += out
                exp.requests[conv] = exp.requests.get(conv, 0) + 1
                for _call in range(rng.randint(0, 2)):
                    c0 = t
                    t += rng.uniform(0.05, 2.0)
                    name = rng.choice(TOOLS)
                    failed = rng.random() < 0.2
                    lines.append(
                        json.dumps(
                            {
                                "type": "span",
                                "traceId": trace,
                                "spanId": _hex(rng, 16),
                                "parentSpanId": root,
                                "name": f"execute_tool {name}",
                                "kind": 0,
                                "startTime": _hr(c0),
                                "endTime": _hr(t),
                                "attributes": {
                                    "gen_ai.operation.name": "execute_tool",
                                    "gen_ai.tool.name": name,
                                    "gen_ai.tool.call.id": f"toolu_{_hex(rng, 12)}",
                                    "gen_ai.tool.type": "function",
                                    "gen_ai.conversation.id": conv,
                                },
                                "status": {"code": 2, "message": f"{name} failed"} if failed else {"code": 0},
                                "events": [],
                                "links": [],
                            }
                        )
                    )
                    exp.tool_calls[conv] = exp.tool_calls.get(conv, 0) + 1
                    exp.failed_tools[conv] = exp.failed_tools.get(conv, 0) + int(failed)
            # the turn's own span, written last, repeats its totals: a reader bills the chat spans only
            lines.append(
                json.dumps(
                    {
                        "type": "span",
                        "traceId": trace,
                        "spanId": root,
                        "name": "invoke_agent copilot",
                        "kind": 0,
                        "startTime": _hr(t0),
                        "endTime": _hr(t),
                        "attributes": {
                            "gen_ai.operation.name": "invoke_agent",
                            "gen_ai.agent.name": "copilot",
                            "gen_ai.conversation.id": conv,
                            "gen_ai.usage.input_tokens": turn_in,
                            "gen_ai.usage.output_tokens": turn_out,
                        },
                        "status": {"code": 0},
                        "events": [],
                        "links": [],
                    }
                )
            )
            exp.turns[conv] = exp.turns.get(conv, 0) + 1
            t += rng.uniform(5, 60)
        lines.append(
            json.dumps(
                {
                    "type": "metric",
                    "name": "gen_ai.client.token.usage",
                    "unit": "{token}",
                    "dataPoints": [{"attributes": {"gen_ai.token.type": "input"}, "sum": tok["input"]}],
                }
            )
        )
    if bad_line:
        lines.insert(len(lines) // 2, '{"type": "span", "traceId": "cut off')
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return exp
