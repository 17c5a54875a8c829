"""The one command decorator: binds a handler to its contract in ``sessionlens.models.api.COMMANDS``.

``@command("sessionlens.search")`` turns ``async def handler(ls, params: SearchParams)`` into a
``CommandSpec``; ``execute`` validates the arguments (-> ``InvalidParams``), runs the handler, maps
``NotFound`` to ``NOT_FOUND`` and other domain refusals to ``REQUEST_FAILED``, and checks the answer
against the result model.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from sessionlens.lsp.convert import uri_to_path
from sessionlens.models.api import COMMANDS, NOT_FOUND, REQUEST_FAILED, CommandContract, Params, Result, SessionRef
from sessionlens.store import NotFound, StoreError

log = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Awaitable[Any]]


class RequestFailed(JsonRpcException):
    CODE = REQUEST_FAILED
    MESSAGE = "request failed"


class CommandNotFound(JsonRpcException):
    """No session, finding, link target or file matches (a server-defined code, distinct from failures)."""

    CODE = NOT_FOUND
    MESSAGE = "not found"


@dataclass(frozen=True)
class CommandSpec:
    contract: CommandContract
    fn: Handler

    @property
    def name(self) -> str:
        return self.contract.name

    @property
    def params(self) -> type[Params]:
        return self.contract.params

    @property
    def result(self) -> type[Result]:
        return self.contract.result

    async def __call__(self, ls: Any, params: Params | dict[str, Any] | None = None) -> Any:
        """Call the handler directly (unit tests): a dict is validated first; the raw answer is returned."""
        if not isinstance(params, BaseModel):
            params = self.params.model_validate(params or {})
        return await self.fn(ls, params)

    def parse(self, args: list[Any] | tuple[Any, ...] | None) -> Params:
        """The command's arguments (``[{...}]`` or none) as its params model, or ``InvalidParams``."""
        if not args:
            raw: Any = {}
        elif len(args) == 1 and isinstance(args[0], dict):
            raw = args[0]
        else:
            raise JsonRpcInvalidParams(f"{self.name} takes one object argument")
        try:
            return self.params.model_validate(raw)
        except ValidationError as e:
            raise JsonRpcInvalidParams(f"{self.name}: {_errors(e)}") from None

    async def execute(self, ls: Any, args: list[Any] | tuple[Any, ...] | None) -> dict[str, Any]:
        params = self.parse(args)
        try:
            out = await self.fn(ls, params)
        except JsonRpcException:
            raise
        except NotFound as e:
            raise CommandNotFound(str(e)) from e
        except ValidationError as e:
            raise JsonRpcInvalidParams(f"{self.name}: {_errors(e)}") from None
        except (StoreError, ValueError) as e:
            raise RequestFailed(str(e)) from e
        if isinstance(out, BaseModel):
            return out.model_dump(mode="json")
        try:
            return self.result.model_validate(out).model_dump(mode="json")
        except ValidationError as e:  # a server bug: say so instead of sending a drifted shape
            log.error("%s answered outside its contract: %s", self.name, e)
            raise


def _errors(e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        loc = ".".join(str(x) for x in err.get("loc", ()))
        parts.append(f"{loc + ': ' if loc else ''}{err.get('msg', '')}")
    return "; ".join(parts)


def command(name: str) -> Callable[[Handler], CommandSpec]:
    """Bind ``fn(ls, params)`` to the declared command ``name`` (KeyError if undeclared)."""
    contract = COMMANDS[name]

    def deco(fn: Handler) -> CommandSpec:
        return CommandSpec(contract, fn)

    return deco


def session_ref(a: SessionRef) -> str:
    """The session a ``SessionRef`` names: its id (or prefix), or the path of its log."""
    ref = a.session_id or (uri_to_path(a.uri) if a.uri else None)
    if not ref:
        raise NotFound("this command needs a session_id or the uri of a session log")
    return ref
