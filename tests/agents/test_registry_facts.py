"""The registry answers a read command's questions about the built-in agents (``--agent`` values,
whether an agent records tokens) from facts it keeps, without importing the adapters: those facts
must be what the adapters themselves say, and asking must load no adapter."""

from __future__ import annotations

import json
import subprocess
import sys

from sessionlens.agents import registry

_PROBE = """
import json, sys
from sessionlens.agents import registry
before = {"names": registry.agent_names(), "tokens": {n: registry.records_tokens(n) for n in registry.agent_names()}}
loaded = sorted(m for m in sys.modules if m.startswith("sessionlens.agents.") and m.count(".") >= 2
                and m.split(".")[2] not in ("base", "paths", "registry", "sniff", "sqlite"))
print(json.dumps({"before": before, "loaded": loaded}))
"""


def _fresh() -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_the_builtin_facts_are_what_the_adapters_say():
    got = _fresh()
    assert got["loaded"] == [], f"asking about agents imported adapters: {got['loaded']}"
    names = registry.names()  # this process: the adapters loaded
    assert got["before"]["names"] == names
    for a in registry.adapters():
        if a.agent_name in names:
            assert got["before"]["tokens"][a.agent_name] == registry.records_tokens(a.agent_name)
    assert any(not v for v in got["before"]["tokens"].values()), "some built-in agent records no tokens (Cursor)"


def test_a_registered_agent_is_answered_by_its_adapter(monkeypatch):
    from sessionlens.agents.base import AgentAdapter

    toy = AgentAdapter(name="toy-no-tokens", label="Toy", records_tokens=False)
    registry.register(toy)
    try:
        assert registry.records_tokens("toy-no-tokens") is False
        assert "toy-no-tokens" in registry.agent_names()
        assert registry.records_tokens("no-such-agent") is True  # unknown: totals are what was recorded
    finally:
        registry.unregister("toy-no-tokens")
