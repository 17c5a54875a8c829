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
