"""Architecture rules, checked on the source: who may import what.

Every import counts, wherever it is (module level, inside a function, under ``TYPE_CHECKING``):
the AST of every module is walked.  Layers, one direction:
models -> agents/ingest -> store/search -> cost/coach/compliance/evals -> services -> lsp/cli/web.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "server" / "sessionlens"


def _imports(path: Path) -> set[str]:
    """Absolute module names imported by a file (relative imports resolved against its package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ["sessionlens", *path.relative_to(PKG).parent.parts]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                names = [mod] if node.module else [f"{mod}.{a.name}" for a in node.names]
                out.update(names)
            elif node.module:
                out.add(node.module)
                out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def _modules() -> list[Path]:
    files = sorted(PKG.rglob("*.py"))
    assert len(files) > 20
    return files


def _area(path: Path) -> str:
    return path.relative_to(PKG).parts[0]


# the layer of every top-level package/module of sessionlens (a new one must be placed here)
LAYERS: dict[str, int] = {
    "__init__": 0,
    "models": 0,
    "samples": 0,
    "agents": 1,
    "ingest": 1,
    "store": 2,
    "search": 2,
    "cost": 3,
    "coach": 3,
    "compliance": 3,
    "evals": 3,
    "telemetry": 3,
    "services": 4,
    "lsp": 5,
    "cli": 5,
    "web": 5,
    "schemas": 5,
    "__main__": 5,
}


def _package(name: str) -> str:
    """The top-level area of a module path or dotted name (``cli_rules`` and ``cli_evals`` belong to ``cli``)."""
    head = name.removesuffix(".py")
    return "cli" if head.startswith("cli_") else head


def _area_of_file(path: Path) -> str:
    return _package(path.relative_to(PKG).parts[0])


def _area_of_module(mod: str) -> str | None:
    parts = mod.split(".")
    if parts[0] != "sessionlens":
        return None
    if len(parts) == 1 or not ((PKG / parts[1]).is_dir() or (PKG / f"{parts[1]}.py").is_file()):
        return "__init__"  # the package itself, or a name it defines (sessionlens.__version__)
    return _package(parts[1])


def _edges() -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for f in _modules():
        src = _area_of_file(f)
        for mod in sorted(_imports(f)):
            dst = _area_of_module(mod)
            if dst is not None and dst != src:
                out.setdefault((src, dst), []).append(f"{f.relative_to(PKG)} imports {mod}")
    return out


def _violations(predicate) -> list[str]:
    bad = []
    for f in _modules():
        for mod in sorted(_imports(f)):
            if predicate(f, mod):
                bad.append(f"{f.relative_to(PKG)} imports {mod}")
    return bad


def _under(mod: str, *prefixes: str) -> bool:
    return any(mod == p or mod.startswith(p + ".") for p in prefixes)


def test_only_the_lsp_package_imports_pygls_or_lsprotocol():
    assert _violations(lambda f, m: _area(f) != "lsp" and _under(m, "pygls", "lsprotocol")) == []


def test_ingest_does_not_reach_into_store_search_or_services():
    banned = ("sessionlens.store", "sessionlens.search", "sessionlens.services", "sessionlens.lsp")
    assert _violations(lambda f, m: _area(f) == "ingest" and _under(m, *banned)) == []


def test_store_does_not_import_services_or_lsp():
    banned = ("sessionlens.services", "sessionlens.lsp", "sessionlens.search")
    assert _violations(lambda f, m: _area(f) == "store" and _under(m, *banned)) == []


@pytest.mark.parametrize("area", ["models", "cost", "coach", "ingest", "store", "search"])
def test_lower_layers_do_not_import_the_lsp(area):
    assert _violations(lambda f, m: _area(f) == area and _under(m, "sessionlens.lsp", "pygls", "lsprotocol")) == []


def test_the_checker_sees_imports():
    # guards against a checker that silently finds nothing
    cli_imports = _imports(PKG / "cli_common.py")
    assert "sessionlens.services.app.App" in cli_imports  # imported inside a function
    assert "sessionlens.store" in _imports(PKG / "services" / "indexer.py")


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    """Every back edge of a depth-first walk, as the cycle it closes."""
    cycles: list[str] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1 and nxt in path:
                cycles.append(" -> ".join(path[path.index(nxt) :] + [nxt]))
            elif state.get(nxt) is None:
                visit(nxt, path + [nxt])
        state[node] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [n])
    return cycles


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a -> b -> c -> a"]
    assert _cycles({"a": {"b", "c"}, "b": {"c"}}) == []


def test_every_area_has_a_layer():
    areas = {_area_of_file(f) for f in _modules()}
    assert areas - set(LAYERS) == set(), "place the new package in LAYERS (tests/test_layering.py)"


def test_nothing_imports_upward_not_even_inside_a_function():
    bad = [w for (src, dst), why in _edges().items() if LAYERS.get(dst, 99) > LAYERS.get(src, -1) for w in why]
    assert bad == []


def test_the_domain_does_not_import_the_application_or_the_front_ends():
    up = {a for a, layer in LAYERS.items() if layer >= 4}
    bad = [w for (src, dst), why in _edges().items() if LAYERS.get(src) == 3 and dst in up for w in why]
    assert bad == []


def test_no_import_cycles_among_packages():
    graph: dict[str, set[str]] = {}
    for src, dst in _edges():
        graph.setdefault(src, set()).add(dst)
    assert _cycles(graph) == []


def test_no_import_cycles_among_modules_of_one_package():
    """Within a package too, modules form no cycle (a lazy import hiding one counts)."""
    graph: dict[str, set[str]] = {}
    names = {}
    for f in _modules():
        rel = f.relative_to(PKG).with_suffix("")
        name = ".".join(["sessionlens", *rel.parts]).removesuffix(".__init__")
        names[name] = f
    for name, f in names.items():
        for mod in _imports(f):
            # `from pkg import name` may name a module or an attribute: take the longest module prefix
            parts = mod.split(".")
            target = next((".".join(parts[:i]) for i in range(len(parts), 0, -1) if ".".join(parts[:i]) in names), None)
            if target and target != name and _area_of_module(target) == _area_of_module(name):
                if not name.startswith(target + "."):  # a module importing its own package's __init__ is fine
                    graph.setdefault(name, set()).add(target)
    assert _cycles(graph) == []


def test_the_edge_walk_sees_the_layers():
    # guards against a graph walk that silently finds nothing
    edges = _edges()
    assert ("services", "store") in edges and ("lsp", "services") in edges
    assert not any(src == "store" and dst == "services" for src, dst in edges)


#: the capability modules of the services layer: App (services/app.py) is their facade, never their dependency
CAPABILITIES = ("base", "documents", "findings", "indexing", "links", "outline", "pricing", "search", "sessions", "transcripts")


@pytest.mark.parametrize("name", CAPABILITIES)
def test_capability_services_do_not_import_the_facade_or_run_sql(name):
    path = PKG / "services" / f"{name}.py"
    assert path.is_file(), path
    assert not any(m == "sessionlens.services.app" or m.startswith("sessionlens.services.app.") for m in _imports(path))
    assert not any(m == "apsw" or m.startswith("apsw.") for m in _imports(path))
    src = path.read_text(encoding="utf-8")
    assert ".conn." not in src and ".execute(" not in src, f"services/{name}.py runs SQL itself: add a Store method"
