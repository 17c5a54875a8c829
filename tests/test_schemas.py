"""schemas/ holds exactly what the pydantic models generate (run `sessionlens schemas` after a model change)."""

import json
from pathlib import Path

from sessionlens.schemas import generate

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def test_schemas_are_current():
    generated = generate()
    assert "config.schema.json" in generated and "event.schema.json" in generated
    for name, text in generated.items():
        path = SCHEMAS / name
        assert path.exists(), f"schemas/{name} is missing: run `sessionlens schemas --out schemas`"
        assert path.read_text() == text, f"schemas/{name} is stale: run `sessionlens schemas --out schemas`"


def test_config_schema_validates_rule_settings():
    schema = json.loads((SCHEMAS / "config.schema.json").read_text())
    assert "coach" in schema["properties"]
    text = json.dumps(schema)
    assert "test_command_patterns" in text


REPO = SCHEMAS.parent


def test_the_docs_command_table_is_generated_from_the_contract():
    from sessionlens.models.api import COMMANDS
    from sessionlens.schemas import TABLE_BEGIN, TABLE_END, command_table

    text = (REPO / "docs" / "ARCHITECTURE.md").read_text()
    table = text[text.index(TABLE_BEGIN) : text.index(TABLE_END) + len(TABLE_END)]
    assert table == command_table(), "docs/ARCHITECTURE.md is stale: run `python -m sessionlens.schemas --docs docs/ARCHITECTURE.md`"
    assert all(f"`{name}`" in table for name in COMMANDS)


def test_the_extensions_protocol_types_are_generated_from_the_schema():
    import shutil
    import subprocess

    node = shutil.which("node")
    assert node, "node is needed to check vscode-extension/src/protocol.generated.ts"
    res = subprocess.run(
        [node, str(REPO / "vscode-extension" / "scripts" / "gen-protocol.mjs"), "--check"], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr
    generated = (REPO / "vscode-extension" / "src" / "protocol.generated.ts").read_text()
    from sessionlens.models.api import COMMANDS

    assert all(f"'{name}': {{ params:" in generated for name in COMMANDS)


def test_the_contract_lists_every_command_and_the_documents_served():
    doc = json.loads((SCHEMAS / "lsp-commands.schema.json").read_text())
    from sessionlens.models.api import COMMANDS

    assert sorted(doc["commands"]) == sorted(COMMANDS)
    assert "**/AGENTS.md" in doc["documents"]["instructions"] and "**/*.eval.json" in doc["documents"]["evals"]
    line = doc["$defs"]["ResolveLinkResult"]["properties"]["line"]
    assert "1-based" in line["description"]
