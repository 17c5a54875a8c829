"""The validated settings model (pydantic): what editors send and ``merge_settings`` checks.

Import it through :mod:`sessionlens.services.settings`, which loads this module (and pydantic) only
when a validated model is asked for: the command line's read commands never need one."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sessionlens.coach.config import LLMConfig
from sessionlens.services.home import default_home


class CoachSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    enabled: bool = Field(True, description="Run the coach rules and show their findings as diagnostics.")


class Settings(BaseModel):
    """The ``sessionlens`` settings section (VS Code settings, Neovim init options, CLI flags)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    store_path: str | None = Field(
        None, alias="storePath", description="Directory of the store; default $SESSIONLENS_HOME or the XDG data dir."
    )
    log_roots: list[str] = Field(default_factory=list, alias="logRoots", description="Extra directories or files holding session logs.")
    include_home_logs: bool = Field(True, alias="includeHomeLogs", description="Index ~/.codex/sessions and ~/.claude/projects.")
    home_logs_scope: Literal["workspace", "all"] = Field(
        "workspace",
        alias="homeLogsScope",
        description="'workspace': only home-directory sessions whose cwd lies inside an open workspace folder; 'all': every session.",
    )
    coach: CoachSettings = Field(default_factory=CoachSettings)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    poll_interval_s: float = Field(
        1.0,
        alias="pollInterval",
        ge=0.1,
        description="Seconds between checks of the log roots outside the workspace (roots appearing or gone) and between polls of those file-system events cannot serve.",
    )

    @property
    def home(self) -> Path:
        return Path(self.store_path).expanduser() if self.store_path else default_home()


def merge_settings(*layers: dict[str, Any] | None) -> tuple[Settings, list[str]]:
    """Merge raw dicts (later wins) into Settings.  Invalid values are dropped with a message, never raised."""
    merged: dict[str, Any] = {}
    for layer in layers:
        if not layer:
            continue
        if isinstance(layer.get("sessionlens"), dict):
            layer = layer["sessionlens"]
        for k, v in layer.items():
            if k == "store" and isinstance(v, dict):  # VS Code style nesting: sessionlens.store.path
                if v.get("path"):
                    merged["storePath"] = v["path"]
                continue
            if k == "server":
                continue
            if isinstance(v, dict) and isinstance(merged.get(k), dict):
                merged[k] = {**merged[k], **v}
            else:
                merged[k] = v
    llm = merged.get("llm")
    if isinstance(llm, dict):  # VS Code setting names -> the model's names; empty values mean "not set"
        aliases = {
            "baseUrl": "base_url",
            "timeoutSeconds": "timeout_s",
            "maxTokens": "max_tokens",
            "maxRetries": "max_retries",
            "contextBudgetChars": "context_budget_chars",
            "apiKeyEnv": "api_key_env",
        }
        merged["llm"] = {aliases.get(k, k): v for k, v in llm.items() if v not in (None, "")}
    errors: list[str] = []
    try:
        return Settings.model_validate(merged), errors
    except ValidationError as exc:
        bad = set()
        for err in exc.errors():
            loc = err.get("loc") or ()
            if loc:
                bad.add(loc[0])
            errors.append(f"setting sessionlens.{'.'.join(str(x) for x in loc)}: {err.get('msg')}")
        cleaned = {k: v for k, v in merged.items() if k not in bad}
        try:
            return Settings.model_validate(cleaned), errors
        except ValidationError:
            return Settings(), errors
