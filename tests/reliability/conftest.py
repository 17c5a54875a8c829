"""The reliability suite's figures: every test adds what it tried and what went wrong; the session
ends with one table (``inputs tried``, ``crashes``, ``events lost``, ``events duplicated``,
``leaks``, ``injections``, ``outside writes``).  Each test asserts its own figures are zero."""

from __future__ import annotations

from collections import Counter

import pytest

FIGURES: Counter = Counter()
BAD = (
    "crashes",
    "files lost",
    "events lost",
    "events duplicated",
    "leaks",
    "injections",
    "outside reads",
    "outside writes",
    "integrity failures",
)


class Figures:
    """What one test tried and broke; ``check()`` asserts every bad figure is zero."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.notes: list[str] = []

    def add(self, name: str, n: int = 1, note: str | None = None) -> None:
        self.counts[name] += n
        FIGURES[name] += n
        if note and len(self.notes) < 20:
            self.notes.append(f"{name}: {note}")

    def check(self) -> None:
        bad = {k: v for k, v in self.counts.items() if k in BAD and v}
        assert not bad, f"{bad}; first: {self.notes[:8]}"


@pytest.fixture
def figures() -> Figures:
    f = Figures()
    yield f
    f.check()


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001 - pytest hook
    if not FIGURES:
        return
    tr = terminalreporter
    tr.section("reliability figures")
    for name in (
        "inputs tried",
        "files indexed",
        "events checked",
        "secrets planted",
        "egress checks",
        "payloads rendered",
        "paths tried",
        "kills",
        *BAD,
    ):
        tr.write_line(f"  {name:<20} {FIGURES.get(name, 0):>9,}")
