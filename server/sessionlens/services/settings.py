"""User settings, merged from defaults, environment, initialization options and the editor's configuration.

Two shapes with the same attributes:

* :class:`Settings` (pydantic, in :mod:`.settings_model`, loaded on first use): what an editor or a
  config layer sends, validated; ``merge_settings`` reports bad values instead of raising.
* :class:`CliSettings`: the command line's settings, plain values that need no validation (``--home``,
  ``--no-home-logs``).  Building it loads no pydantic (~100 ms of a read command's start-up); a
  setting that is itself a model (``coach``, ``llm``) is the validated default, built on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from sessionlens.services.home import default_home

if TYPE_CHECKING:
    from sessionlens.services.settings_model import CoachSettings, Settings, merge_settings

__all__ = ["AnySettings", "CliSettings", "CoachSettings", "Settings", "default_home", "merge_settings"]

#: the names of the validated model's module, loaded when one of them is first asked for
_MODEL_NAMES = frozenset({"Settings", "CoachSettings", "merge_settings"})


def __getattr__(name: str) -> Any:
    if name in _MODEL_NAMES:
        from sessionlens.services import settings_model

        return getattr(settings_model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class CliSettings:
    """:class:`Settings` given as plain values (the command line's): the same attributes and
    defaults (``tests/services/test_settings.py`` compares them), no validation to run."""

    def __init__(self, store_path: str | None = None, include_home_logs: bool = True) -> None:
        self.store_path = store_path
        self.include_home_logs = include_home_logs
        self.log_roots: list[str] = []
        self.home_logs_scope = "workspace"
        self.poll_interval_s = 1.0
        self._model: Settings | None = None

    @property
    def home(self) -> Path:
        return Path(self.store_path).expanduser() if self.store_path else default_home()

    def model(self) -> Settings:
        """The same settings validated (pydantic): where a setting is itself a model."""
        if self._model is None:
            from sessionlens.services.settings_model import Settings

            self._model = Settings(
                storePath=self.store_path,
                logRoots=list(self.log_roots),
                includeHomeLogs=self.include_home_logs,
                homeLogsScope=self.home_logs_scope,
                pollInterval=self.poll_interval_s,
            )
        return self._model

    def __getattr__(self, name: str) -> Any:  # coach, llm: the model's (only names not set above reach here)
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.model(), name)


#: what an ``App`` runs with
AnySettings = Union["Settings", CliSettings]
