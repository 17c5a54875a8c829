"""The instruction files in effect for a session, read as they were when the session ran.

* Codex: ``AGENTS.md`` in every directory from the repository root down to the session's cwd
  (``AGENTS.override.md`` replaces ``AGENTS.md`` in its directory), after the user-level
  ``$CODEX_HOME/AGENTS.md`` (``~/.codex``).  Files closer to the cwd come later and win.
* Claude Code: ``~/.claude/CLAUDE.md``, then ``CLAUDE.md``, ``.claude/CLAUDE.md`` and
  ``CLAUDE.local.md`` from the repository root down to the cwd, plus files they import with
  ``@path`` lines (e.g. ``@AGENTS.md``).
* Every other agent as its adapter says (``AgentAdapter.instructions``): Gemini CLI ``GEMINI.md``,
  Pi ``AGENTS.md``, Cursor ``.cursor/rules/*.mdc`` + ``AGENTS.md``...
* All: ``.ruler/*.md`` at the repository root (ruler distributes them to every agent).

When the session records a git commit and the repository has it, project files are read with
``git show <commit>:<path>``; otherwise the current file is used and the result says so.
``CLAUDE.local.md`` (never committed) and user-level files are always read from disk.

When the session's cwd does not exist on this machine (logs copied from elsewhere), the
project is found by walking up from the log file to the first directory holding an
instruction file or ``.git`` (stopping below the home directory), then the workspace folder
holding the log.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sessionlens.agents import registry as agent_registry
from sessionlens.agents.base import InstructionSpec
from sessionlens.models.store import StoredSession

log = logging.getLogger(__name__)

AGENTS_NAMES = ("AGENTS.override.md", "AGENTS.md")
CLAUDE_NAMES = ("CLAUDE.md", ".claude/CLAUDE.md", "CLAUDE.local.md")


def _basenames() -> tuple[str, ...]:
    """Every instruction file name some registered agent reads (AGENTS.md, CLAUDE.md, GEMINI.md...)."""
    names: list[str] = list(AGENTS_NAMES) + ["CLAUDE.md", "CLAUDE.local.md"]
    for a in agent_registry.adapters():
        names += a.instructions.names()
    return tuple(dict.fromkeys(names))


def _rules_dirs() -> tuple[str, ...]:
    return tuple(dict.fromkeys(d for a in agent_registry.adapters() for d in a.instructions.rules_dirs))


INSTRUCTION_BASENAMES = _basenames()
_MARKERS = (*INSTRUCTION_BASENAMES, ".ruler", *_rules_dirs(), ".git")


def instruction_globs() -> tuple[str, ...]:
    """The instruction files as globs (editors' document selectors and file watchers; ``is_instruction_file`` agrees)."""
    rules = [f"**/{d.strip('/')}/*{ext}" for d in _rules_dirs() for ext in (".md", ".mdc")]
    return tuple(dict.fromkeys([*(f"**/{n}" for n in _basenames()), "**/.ruler/*.md", *rules]))


INSTRUCTION_GLOBS = instruction_globs()
_GIT_TIMEOUT = 10


@dataclass
class InstructionFile:
    """One instruction file as the session saw it."""

    path: str  # absolute path on this machine (where the file is, or was)
    kind: str  # "agents" | "claude" | "claude-local" | "gemini" | "ruler" | "rules" | "user"
    text: str
    depth: int  # 0 = user level, 1 = repository root, more = closer to the cwd (later wins)
    commit: str | None = None  # the commit it was read at, None = the file on disk
    note: str = ""  # how it was read, for the user

    @property
    def at_commit(self) -> bool:
        return self.commit is not None


def is_instruction_file(path: str) -> bool:
    p = Path(path)
    if p.name in _basenames():
        return True
    if p.suffix.lower() == ".md" and p.parent.name == ".ruler":
        return True
    return p.suffix.lower() in (".md", ".mdc") and any(str(p.parent).endswith("/" + d.strip("/")) for d in _rules_dirs())


def _home() -> Path:
    return Path(os.path.expanduser("~"))


# ------------------------------------------------------------------------------ git


class _LRU(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def put(self, key, value):
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)
        return value


_git_cache = _LRU(4096)


def _git(root: str, *args: str) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", "-C", root, *args], capture_output=True, timeout=_GIT_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        log.info("git %s failed in %s: %s", args[0], root, e)
        return None


def git_root(path: str) -> str | None:
    """The repository root holding ``path`` (by looking for ``.git``), or None."""
    p = Path(path)
    for cand in (p, *p.parents):
        if (cand / ".git").exists():
            return str(cand)
    return None


def has_commit(root: str, commit: str) -> bool:
    key = ("has", root, commit)
    if key in _git_cache:
        return _git_cache[key]
    r = _git(root, "cat-file", "-e", f"{commit}^{{commit}}")
    return _git_cache.put(key, r is not None and r.returncode == 0)


def show_at(root: str, commit: str, rel: str) -> str | None:
    """The text of ``rel`` at ``commit`` (None when the file did not exist then)."""
    key = ("show", root, commit, rel)
    if key in _git_cache:
        return _git_cache[key]
    r = _git(root, "show", f"{commit}:{rel}")
    text = r.stdout.decode("utf-8", "replace") if r is not None and r.returncode == 0 else None
    return _git_cache.put(key, text)


def ls_at(root: str, commit: str, rel_dir: str) -> list[str]:
    key = ("ls", root, commit, rel_dir)
    if key in _git_cache:
        return _git_cache[key]
    r = _git(root, "ls-tree", "--name-only", f"{commit}:{rel_dir}")
    names = r.stdout.decode("utf-8", "replace").split("\n") if r is not None and r.returncode == 0 else []
    return _git_cache.put(key, [n for n in names if n])


# ------------------------------------------------------------------------------ project dirs

#: Seconds a folder's answers (does it hold a project marker, which project a log in it belongs to)
#: are reused: an indexing pass asks them for every log file of a folder within moments.
_FOLDER_TTL = 5.0
_folder_cache = _LRU(4096)


def _folder_cached(key: tuple, compute):
    now = time.monotonic()
    hit = _folder_cache.get(key)
    if hit is not None and now - hit[0] < _FOLDER_TTL:
        return hit[1]
    return _folder_cache.put(key, (now, compute()))[1]


def _has_marker(folder: Path) -> bool:
    name = str(folder)
    return _folder_cached(("marker", name), lambda: any(os.path.exists(os.path.join(name, m)) for m in _MARKERS))


_agent_homes_cache: dict[tuple, frozenset[str]] = {}


def _agent_homes(home: Path) -> frozenset[str]:
    """The agents' own folders below ``home`` (their log folders are no project): a function of the
    home folder and the environment (the agents' roots honour it), remembered for those."""
    key = (str(home), frozenset(os.environ.items()))
    hit = _agent_homes_cache.get(key)
    if hit is None:
        homes = {home / ".codex", home / ".claude"} | {
            home / Path(r.path).relative_to(home).parts[0]
            for r in agent_registry.default_roots(str(home))
            if Path(r.path).is_relative_to(home) and Path(r.path) != home
        }
        if len(_agent_homes_cache) >= 16:
            _agent_homes_cache.clear()
        hit = _agent_homes_cache[key] = frozenset(str(h) for h in homes)
    return hit


def project_dir_for_log(log_path: str | None, workspace_folders: Sequence[str] = ()) -> str | None:
    """Where to look for instruction files of a session whose cwd is not on this machine."""
    if not log_path:
        return _project_dir_for_log(log_path, workspace_folders)
    # the answer depends on the log's folder only
    key = ("dir", os.path.dirname(log_path), tuple(workspace_folders), os.path.expanduser("~"))
    return _folder_cached(key, lambda: _project_dir_for_log(log_path, workspace_folders))


def _project_dir_for_log(log_path: str | None, workspace_folders: Sequence[str] = ()) -> str | None:
    if log_path:
        home = _home()
        folder = Path(log_path).parent
        name = str(folder)
        # the agents' own log folders are no project (``h`` or below it: ``h in folder.parents``, ``h``
        # being absolute)
        start = None if any(name == h or name.startswith(h.rstrip("/") + "/") for h in _agent_homes(home)) else folder
        if start is not None:
            for cand in (start, *start.parents):
                if cand == home or cand == cand.parent:
                    break
                if _has_marker(cand):
                    return str(cand)
        for f in workspace_folders:
            if log_path.startswith(f.rstrip("/") + "/"):
                return f
    if len(workspace_folders) == 1:
        return workspace_folders[0]
    return None


def session_dirs(session: StoredSession, workspace_folders: Sequence[str] = ()) -> tuple[str | None, str | None, str]:
    """(repository root, cwd, note) used to find a session's instruction files."""
    cwd = session.cwd
    if cwd and os.path.isdir(cwd):
        return git_root(cwd) or cwd, cwd, ""
    proj = project_dir_for_log(session.path, workspace_folders)
    if proj is None:
        return None, None, f"the session's folder {cwd or '(unknown)'} is not on this machine"
    why = f"the session's folder {cwd} is not on this machine; using {proj}" if cwd else f"using {proj}"
    return git_root(proj) or proj, proj, why


# ------------------------------------------------------------------------------ files in effect


def _chain(root: str, cwd: str) -> list[Path]:
    r, c = Path(root), Path(cwd)
    if c != r and r not in c.parents:
        return [c]
    dirs = [c]
    while dirs[-1] != r:
        dirs.append(dirs[-1].parent)
    return list(reversed(dirs))


class _Reader:
    """Reads project files at the session's commit when possible, else from disk."""

    def __init__(self, root: str, commit: str | None):
        self.root = root
        self.repo = git_root(root) if commit else None
        self.commit = commit if self.repo and commit and has_commit(self.repo, commit) else None
        if commit and self.commit is None:
            self.note = f"current file: commit {commit[:10]} is not in this repository"
        elif commit:
            self.note = f"as of commit {commit[:10]}"
        else:
            self.note = "current file: the session records no git commit"

    def read(self, path: Path, *, tracked: bool = True) -> tuple[str | None, str | None, str]:
        if self.commit and self.repo and tracked:
            rel = os.path.relpath(path, self.repo)
            return show_at(self.repo, self.commit, rel), self.commit, self.note
        note = self.note if tracked else "current file (not versioned)"
        return _read(path), None, note

    def listdir(self, d: Path) -> list[Path]:
        if self.commit and self.repo:
            rel = os.path.relpath(d, self.repo)
            return [d / n for n in ls_at(self.repo, self.commit, rel)]
        try:
            return sorted(d.iterdir())
        except OSError:
            return []


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError):
        return None


def _expand_user(entry: str, spec: InstructionSpec, home_dir: Path, explicit_home: bool) -> Path:
    """``~/x`` below the home directory, ``$VAR/x`` below the variable's folder (its default when unset,
    or always when an explicit ``home`` was given, as tests do)."""
    if entry.startswith("$"):
        var, _, rest = entry[1:].partition("/")
        base = None if explicit_home else os.environ.get(var)
        if not base:
            base = spec.user_defaults.get(var, f"~/.{var.lower()}")
        if base == "~":
            base_path = home_dir
        else:
            base_path = home_dir / base[2:] if base.startswith("~/") else Path(os.path.expanduser(base))
        return base_path / rest
    if entry.startswith("~/"):
        return home_dir / entry[2:]
    return Path(entry)


def _kind(spec: InstructionSpec, name: str) -> str:
    return spec.kinds.get(os.path.basename(name), "agents")


def instruction_files(
    session: StoredSession, *, workspace_folders: Sequence[str] = (), home: str | None = None, use_git: bool = True
) -> tuple[list[InstructionFile], str]:
    """The instruction files in effect for ``session`` (a store session dict), in precedence order.

    Which files an agent reads comes from its adapter (``AgentAdapter.instructions``, see
    :mod:`sessionlens.agents`).  Returns the files (later entries are more specific and win) and a
    note on how the project was found ('' when the session's own cwd was used).
    """
    adapter = agent_registry.get(session.agent or "codex")
    spec = adapter.instructions if adapter is not None else InstructionSpec(project=(AGENTS_NAMES,))
    root, cwd, where = session_dirs(session, workspace_folders)
    home_dir = Path(home) if home else _home()
    out: list[InstructionFile] = []
    for entry in spec.user:
        p = _expand_user(entry, spec, home_dir, home is not None)
        t = _read(p)
        if t is not None:
            out.append(InstructionFile(str(p), "user", t, 0, note="user-level file"))
            break
    if root is None or cwd is None:
        return out, where
    reader = _Reader(root, session.git_commit if use_git else None)
    seen = {f.path for f in out}
    for rules in (".ruler", *spec.rules_dirs):
        exts = (".md",) if rules == ".ruler" else (".md", ".mdc")
        for d in reader.listdir(Path(root) / rules):
            if d.suffix.lower() in exts:
                text, commit, note = reader.read(d)
                if text is not None:
                    out.append(InstructionFile(str(d), "ruler" if rules == ".ruler" else "rules", text, 1, commit, note))
                    seen.add(str(d))
    for depth, d in enumerate(_chain(root, cwd), start=1):
        for group in spec.project:
            for name in group:
                local = name.endswith(".local.md")
                if str(d / name) in seen:
                    break
                text, commit, note = reader.read(d / name, tracked=not local)
                if text is None:
                    continue
                out.append(InstructionFile(str(d / name), _kind(spec, name), text, depth, commit, note))
                seen.add(str(d / name))
                if spec.imports:
                    for imp in _imports(text, d):  # `@AGENTS.md` and friends
                        if str(imp) in seen or not is_instruction_file(str(imp)):
                            continue
                        itext, icommit, inote = reader.read(imp, tracked=not imp.name.endswith(".local.md"))
                        if itext is not None:
                            seen.add(str(imp))
                            out.append(
                                InstructionFile(
                                    str(imp),
                                    "agents" if imp.name.startswith("AGENTS") else _kind(spec, imp.name),
                                    itext,
                                    depth,
                                    icommit,
                                    f"imported by {name}; {inote}",
                                )
                            )
                break
    return out, where


def _imports(text: str, base: Path) -> list[Path]:
    out = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("@") and len(s) > 1 and " " not in s and s.endswith(".md"):
            p = s[1:]
            out.append(Path(os.path.expanduser(p)) if p.startswith("~") else Path(os.path.normpath(base / p)))
    return out
