"""Helpers shared by the command-line modules (``cli``, ``cli_rules``, ``cli_evals``), so none imports another:
the error hierarchy (exit codes), output, and opening the store (``--home``, ``--samples``)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_REGRESSION = 3
EXIT_NOT_FOUND = 4
EXIT_BUSY = 5
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """An error the user can act on: one line on stderr, exit code :attr:`code`."""

    code = EXIT_ERROR


class UsageError(CliError):
    """A bad argument or option value (caught at the edge, before any work)."""

    code = EXIT_USAGE


class NotFoundError(CliError):
    """Something the user named does not exist (or is ambiguous)."""

    code = EXIT_NOT_FOUND


class BusyError(CliError):
    """Another process is writing this store."""

    code = EXIT_BUSY


# Log content reaches the terminal through _out: no control sequence from a log may move the cursor,
# clear the screen, retitle the window or plant an OSC 8 link; only SGR colors (ours) pass.
_TERM_UNSAFE = re.compile(r"\x1b(?!\[[0-9;]*m)|[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f\x80-\x9f]")


def _out(text: str = "") -> None:
    sys.stdout.write(_TERM_UNSAFE.sub("\ufffd", text) + "\n")


def _json(obj: Any) -> None:
    sys.stdout.write(dumps_indented(obj) + "\n")


# ``json.dumps(obj, indent=2, default=str, ensure_ascii=False)``, the bytes of every ``--json``, made
# faster: with ``indent`` the standard library leaves its C encoder for the pure-Python one (a
# generator per container, one call per value: ~9 ms of a 200-row cost report).  The same rules,
# one function call per container, the C string encoder for strings (tests/test_cli_json_encoder.py
# compares the two on fuzzed values).
_encode_str = json.encoder.encode_basestring  # ensure_ascii=False: the C one when the accelerator is there
_INF = float("inf")


def _float_str(o: float) -> str:
    if o != o:
        return "NaN"
    if o == _INF:
        return "Infinity"
    if o == -_INF:
        return "-Infinity"
    return float.__repr__(o)


def _key_str(k: Any) -> str:
    if isinstance(k, str):
        return k
    if isinstance(k, float):
        return _float_str(k)
    if k is True:
        return "true"
    if k is False:
        return "false"
    if k is None:
        return "null"
    if isinstance(k, int):
        return int.__repr__(k)
    raise TypeError(f"keys must be str, int, float, bool or None, not {k.__class__.__name__}")


def _scalar(o: Any) -> str | None:
    """The JSON of a value that is no container (``default=str`` for the others), None for a container."""
    t = type(o)
    if t is str:
        return _encode_str(o)
    if t is int:
        return int.__repr__(o)
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if t is float:
        return _float_str(o)
    if isinstance(o, str):
        return _encode_str(o)
    if isinstance(o, int):
        return int.__repr__(o)
    if isinstance(o, float):
        return _float_str(o)
    if isinstance(o, (list, tuple, dict)):
        return None
    return _encode_str(str(o))  # default=str


#: the types the C encoder writes as the pure-Python one does (their subclasses too, but exact is enough)
_FLAT = frozenset({str, int, float, bool, type(None)})
_C_ENCODERS: dict[str, Any] = {}


def _flat(o: Any, inner: str) -> str | None:
    """A non-empty container of scalars only (a report's row) written by the C encoder, its items apart
    by the separator of this indentation (``,`` and ``inner``): then only the brackets are re-set."""
    make = getattr(json.encoder, "c_make_encoder", None)  # (None without the accelerator)
    if make is None or not _FLAT.issuperset(map(type, o.values() if isinstance(o, dict) else o)):
        return None
    enc = _C_ENCODERS.get(inner)
    if enc is None:  # (markers None: no circular check, as no scalar holds a reference)
        enc = _C_ENCODERS[inner] = make(None, str, _encode_str, None, ": ", "," + inner, False, False, True)
    return "".join(enc(o, 0))


def _write(o: Any, out: list[str], nl: str, active: set[int]) -> None:
    """Append the JSON of container ``o`` at the indentation ``nl`` (a newline and its spaces)."""
    if not o:
        out.append("[]" if isinstance(o, (list, tuple)) else "{}")
        return
    flat = _flat(o, nl + "  ")
    if flat is not None:
        out.append(f"{flat[0]}{nl}  {flat[1:-1]}{nl}{flat[-1]}")
        return
    if id(o) in active:
        raise ValueError("Circular reference detected")
    active.add(id(o))
    inner = nl + "  "
    sep = inner
    if isinstance(o, dict):
        out.append("{")
        for k, v in o.items():
            key = _encode_str(_key_str(k))
            s = _scalar(v)
            if s is not None:
                out.append(f"{sep}{key}: {s}")
            else:
                out.append(f"{sep}{key}: ")
                _write(v, out, inner, active)
            sep = "," + inner
        out.append(nl + "}")
    else:
        out.append("[")
        for v in o:
            s = _scalar(v)
            if s is not None:
                out.append(sep + s)
            else:
                out.append(sep)
                _write(v, out, inner, active)
            sep = "," + inner
        out.append(nl + "]")
    active.discard(id(o))


def dumps_indented(obj: Any) -> str:
    """``json.dumps(obj, indent=2, default=str, ensure_ascii=False)``, byte for byte."""
    s = _scalar(obj)
    if s is not None:
        return s
    out: list[str] = []
    _write(obj, out, "\n", set())
    return "".join(out)


def _home_arg(args) -> Path | None:
    raw = getattr(args, "home", None)
    if not raw:
        return None
    p = Path(raw).expanduser()
    for q in (p, *p.parents):
        if q.exists():
            if not q.is_dir():
                raise UsageError(f"--home {raw} is not a directory (it names the folder that holds the store)")
            break
    return p


def _default_home() -> Path:
    from sessionlens.services.settings import default_home

    return default_home()


def samples_dir(args) -> Path:
    """The demo's own folder: ``<home>/samples`` with ``logs/`` and a ``store/`` of its own."""
    return (_home_arg(args) or _default_home()) / "samples"


def _settings(args, *, home: Path | None = None):
    """The store folder and whether to read the agent homes: plain values, so no validated
    (pydantic) model is built for a command line."""
    from sessionlens.services.settings import CliSettings

    h = home or _home_arg(args)
    include_home_logs = True
    if getattr(args, "samples", False) and home is None:
        h = samples_dir(args) / "store"
        include_home_logs = False
    if getattr(args, "no_home_logs", False):
        include_home_logs = False
    return CliSettings(str(h) if h is not None else None, include_home_logs)


def _app(args, *, home: Path | None = None):
    from sessionlens.services.app import App  # lazily: `sessionlens --help` stays fast

    return App(_settings(args, home=home))
