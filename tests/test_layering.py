"""Architecture rules, checked on the source: who may import what."""

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
    cli_imports = _imports(PKG / "cli.py")
    assert "sessionlens.services.app.App" in cli_imports
    assert "sessionlens.store" in _imports(PKG / "services" / "indexer.py")
