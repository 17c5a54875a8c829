"""The client/server contract: params and result of every ``workspace/executeCommand`` command.

Declared once here (``COMMANDS``), implemented once in ``sessionlens.lsp.features`` (``@command``
binds a handler to its entry), and exported as JSON Schema (``sessionlens schemas``) from which the
VS Code extension's TypeScript types and the docs' command table are generated.

Errors: arguments that do not validate answer ``InvalidParams`` (-32602); an unknown session,
finding, link or file answers ``NOT_FOUND`` (-32001); any other refusal (a domain error such as
a malformed suite) answers ``REQUEST_FAILED`` (-32803).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

NOT_FOUND = -32001
REQUEST_FAILED = -32803

CostGrouping = Literal["day", "week", "month", "session", "model", "project", "agent"]


class Params(BaseModel):
    """Command arguments: one JSON object (unknown keys are ignored, known keys are checked)."""

    model_config = ConfigDict(extra="ignore")


class Result(BaseModel):
    """A command's answer (extra keys a handler adds are kept)."""

    model_config = ConfigDict(extra="allow", json_schema_serialization_defaults_required=True)


class SessionRef(Params):
    """A session by ``session_id`` (id or unique prefix) or by the ``uri`` of its log."""

    session_id: str | None = None
    uri: str | None = None

    @model_validator(mode="after")
    def _one_ref(self) -> SessionRef:
        if not (self.session_id or self.uri):
            raise ValueError("needs a session_id or the uri of a session log")
        return self


class StreamParams(Params):
    stream_id: str | None = Field(None, description="id of the sessionlens/stream notifications (default: a new uuid)")


class InstructionFileRef(Params):
    """An instruction file (AGENTS.md, CLAUDE.md, .ruler/*.md) by ``path`` or ``uri``."""

    path: str | None = None
    uri: str | None = None

    @model_validator(mode="after")
    def _one_ref(self) -> InstructionFileRef:
        if not (self.path or self.uri):
            raise ValueError("needs the path or uri of an instruction file")
        return self


# ---------------------------------------------------------------------- sessions & search
class SearchParams(Params):
    query: str = ""
    agent: str | None = None
    project: str | None = None
    kind: str | None = None
    tool: str | None = None
    session: str | None = None
    since: str | None = None
    until: str | None = None
    limit: int = Field(20, ge=1, le=1000)
    workspace_only: bool | None = None
    hubs: bool = Field(True, description="also search the team hubs added with sessionlens.addHub")


class SearchHit(Result):
    session_id: str
    seq: int
    line: int = Field(description="1-based line of the event in its log")
    path: str
    uri: str | None
    link: str = Field(description="the event's sessionlens:// link")
    agent: str | None = None
    project: str | None = None
    project_name: str | None = None
    kind: str | None = None
    tool: str | None = None
    model: str | None = None
    timestamp: str | None = None
    title: str | None = None
    score: float | None = None
    snippet: str | None = None
    snippet_html: str | None = None
    hub: str | None = Field(
        None,
        description="the team hub this hit came from (its id, as sessionlens.hubs lists it); "
        "a team hit has no local path, uri or link: open it with renderSessionHtml {session_id, hub}",
    )
    hub_name: str | None = None


class SearchResult(Result):
    total: int
    hits: list[SearchHit]
    warnings: list[str] = Field([], description="e.g. a team hub that could not be reached (local results are still there)")


class SessionsParams(Params):
    project: str | None = None
    agent: str | None = None
    since: str | None = None
    until: str | None = None
    limit: int = Field(200, ge=1, le=100_000)
    workspace_only: bool | None = None
    include_subagents: bool = Field(True, description="also list sub-agent and compaction runs (rows name their parent_session_id)")
    view: str | None = Field(None, description="a saved view's name (sessionlens.savedViews): its filters apply, explicit params win")
    hubs: bool = Field(True, description="also list the team hubs' sessions the key may read")


class SessionRow(Result):
    id: str
    agent: str | None = None
    cwd: str | None = None
    project: str | None = None
    project_name: str | None = None
    title: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    models: list[str] = []
    path: str
    uri: str | None = None
    events: int | None = None
    turns: int | None = None
    tokens: int | None = None
    cost_usd: float | None = None
    cost_known: bool | None = None
    cost_label: str = Field("", description="the cost as shown (server-formatted: $0.42, <$0.01, $1.20+ when partial)")
    parent_session_id: str | None = None
    agent_id: str | None = None
    hub: str | None = Field(None, description="the team hub this session is on (its id); None: this machine's store")
    hub_name: str | None = None


class SessionsResult(Result):
    sessions: list[SessionRow] = Field(description="newest first")
    warnings: list[str] = Field([], description="e.g. a team hub that could not be reached or refused the key")
    view: dict[str, str] | None = Field(None, description="the saved view's filters, when one was applied")


class SavedViewsParams(Params):
    pass


class SavedView(Result):
    name: str
    filters: dict[str, str]
    description: str = Field("", description="the filters as one line (agent=claude project=api ...)")


class SavedViewsResult(Result):
    views: list[SavedView] = Field(description="by name; saved in the web UI or with `sessionlens views --save`")


class RenderSessionParams(SessionRef):
    hub: str | None = Field(None, description="the team hub the session is on (SessionRow.hub): fetched from it, rendered here")


class RenderSessionResult(Result):
    title: str
    markdown: str


class RenderSessionHtmlParams(SessionRef):
    hub: str | None = Field(None, description="the team hub the session is on (SessionRow.hub): fetched from it, rendered here")


class RenderSessionHtmlResult(Result):
    session_id: str
    title: str
    body: str = Field(description="the sanitized HTML transcript (no scripts, no remote content)")
    css: str = Field(description="its stylesheet, for a <style> under the host page's nonce")
    js: str = Field(description="its script (folding, filters, find, reveal), for a <script> under the host page's nonce")
    path: str | None = None
    log_missing: bool = Field(False, description="the log file is gone: the transcript comes from the store")
    hub: str | None = Field(None, description="the team hub the session came from (no raw log here)")


class ResolveLinkParams(Params):
    link: str


class ResolveLinkResult(Result):
    session_id: str
    seq: int | None
    path: str
    uri: str
    line: int = Field(description="1-based line of the event in the log (1 when the link names no event)")


class DeepLinkParams(Params):
    uri: str
    line: int = Field(0, ge=0, description="0-based line in the log")


class DeepLinkResult(Result):
    link: str


# ---------------------------------------------------------------------- agent blame
class BlameParams(Params):
    uri: str = Field(description="a workspace source file")
    line: int | None = Field(None, ge=0, description="0-based line: also answer who wrote it")


class BlameWriter(BaseModel):
    """The edit a line is attributed to."""

    session_id: str
    agent: str
    agent_label: str
    seq: int = Field(description="the edit event's number in its log")
    line: int = Field(description="1-based line of the edit event in its log (what the link opens)")
    ts: str | None = Field(description="when the edit was made (ISO 8601, UTC)")
    turn: int | None = Field(description="0-based turn of the session")
    tool: str | None
    op: str = Field(description="edit | write | add")
    path: str = Field(description="the edited path, relative to the session's repository (maybe an earlier name)")
    prompt: str | None = Field(description="the turn's prompt (masked)")
    title: str | None
    link: str = Field(description="sessionlens:// link of the edit event")
    log_path: str


class BlameSession(BaseModel):
    session_id: str
    agent: str
    agent_label: str
    title: str | None
    edits: int = Field(description="edit events of the session that named this file")
    lines: int = Field(description="current lines attributed to the session")
    first: str | None
    last: str | None
    link: str


class BlameResult(Result):
    path: str
    rel: str = Field(description="the file relative to its repository root (or workspace folder)")
    root: str | None
    git: bool = Field(description="git history was used")
    names: list[str] = Field(description="the repository-relative names the edits were looked up by (renames)")
    line_count: int
    attributed: int = Field(description="lines attributed to some session")
    sessions: list[BlameSession] = Field(description="sessions that edited the file, most recent first")
    writers: list[int | None] = Field(description="per line (0-based), the index in `sessions` of its writer")
    writer: BlameWriter | None = Field(None, description="the writer of `line`, when asked and known")


class CostReportParams(Params):
    by: CostGrouping = "day"
    since: str | None = None
    until: str | None = None
    project: str | None = None
    agent: str | None = None


class CostReportResult(Result):
    by: CostGrouping
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    markdown: str = Field(description="the table as Markdown")
    html: str = Field(description="the table as an HTML <table>, every cell escaped")
    svg: str = Field(description="the chart of this grouping (self-contained SVG, no scripts)")


# ---------------------------------------------------------------------- indexing
class ReindexParams(Params):
    paths: list[str] | None = None


class ReindexResult(Result):
    files: int
    sessions: int
    events: int
    problems: int
    changed: int


class StatusParams(Params):
    pass


class StatusResult(Result):
    indexing: bool
    files: int
    sessions: int
    events: int
    problems: int
    findings: int
    projects: int
    store: str
    #: every registered agent's source patterns (file watchers, the editor's document selector)
    globs: list[str] = []
    #: the registered agents' names
    agents: list[str] = []
    #: how log roots outside the workspace are followed: ``events`` (file-system events), ``poll``,
    #: ``mixed`` (some roots polled: see ``polled``) or ``idle`` (none to follow)
    watch: str = "idle"
    #: the polled roots and why each is (no watcher library, the OS's watch limit, a network file system)
    polled: dict[str, str] = {}


# ---------------------------------------------------------------------- team hubs
HubStatus = Literal["unchecked", "ok", "unreachable", "unauthorized", "forbidden", "error"]


class AddHubParams(Params):
    """A team hub (``sessionlens serve --team``) and an API key with the ``read`` scope.  The key is held
    in the server's memory only (the editor keeps it in its secret storage and sends it at every start)."""

    url: str = Field(min_length=1, max_length=2000, description="the hub's base URL, http(s)://host[:port][/prefix]")
    key: SecretStr = Field(description="an API key of the hub (slk_...); never logged, never written to disk")
    name: str | None = Field(None, max_length=80, description="how the editor labels it (default: the URL's host)")
    check: bool = Field(True, description="ask the hub now (status and message in the answer); false: just register it")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        v = v.strip()
        if not v.lower().startswith(("http://", "https://")):
            raise ValueError("a hub URL starts with http:// or https://")
        return v


class HubRef(Params):
    hub: str = Field(min_length=1, description="the hub's id or URL (as sessionlens.hubs lists it)")


class HubsParams(Params):
    check: bool = Field(False, description="ask every hub now instead of answering the last known status")


class HubInfo(Result):
    id: str = Field(description="the normalized URL; search hits and session rows name it in `hub`")
    url: str
    name: str
    key_hint: str = Field(description="the key's public prefix (slk_<prefix>_…), never the secret")
    status: HubStatus
    message: str = Field("", description="what went wrong, in words (unreachable, key refused, ...)")
    sessions: int | None = Field(None, description="sessions the key may read, at the last check")


class AddHubResult(Result):
    hub: HubInfo


class RemoveHubResult(Result):
    removed: bool


class HubsResult(Result):
    hubs: list[HubInfo]


# ---------------------------------------------------------------------- coach
class SetApiKeyParams(Params):
    key: str | None = None


class SetApiKeyResult(Result):
    ok: bool
    configured: bool


class ExplainFindingParams(StreamParams):
    finding_id: int


class ShowQuickFixTargetParams(Params):
    """After a quick fix: open the file it edited (``path``, inside the workspace), or explain why it
    cannot be applied (``message``)."""

    path: str | None = None
    message: str | None = None

    @model_validator(mode="after")
    def _one(self) -> ShowQuickFixTargetParams:
        if not (self.path or self.message):
            raise ValueError("needs the path of the edited file or a message")
        return self


class ShowQuickFixTargetResult(Result):
    ok: bool
    uri: str | None = None


class CoachSessionParams(SessionRef, StreamParams):
    pass


class StreamedMarkdownResult(Result):
    id: str
    markdown: str
    error: str | None


class AskCoachParams(SessionRef, StreamParams):
    question: str = Field(min_length=1)

    @model_validator(mode="after")
    def _question(self) -> AskCoachParams:
        if not self.question.strip():
            raise ValueError("askCoach needs a question")
        self.question = self.question.strip()
        return self


class ConversationParams(SessionRef):
    pass


class ConversationResult(Result):
    session_id: str
    messages: list[dict[str, Any]]


class ClearConversationResult(Result):
    ok: bool
    session_id: str


# ---------------------------------------------------------------------- guidelines
class GuidelineReportParams(InstructionFileRef):
    line: int | None = Field(None, ge=0, description="0-based line: only the guideline there")


class GuidelineReportResult(Result):
    sessions: int
    rows: list[dict[str, Any]]
    markdown: str


class ExtractGuidelinesParams(InstructionFileRef):
    pass


class ExtractGuidelinesResult(Result):
    hash: str


# ---------------------------------------------------------------------- evals
class RunEvalsParams(Params):
    file: str | None = Field(None, description="a suite's path or uri (default: every *.eval.json in the workspace)")
    uri: str | None = None


class RunEvalsResult(Result):
    cancelled: bool
    suites: list[dict[str, Any]]
    markdown: str


# ---------------------------------------------------------------------- documents
class DocumentsParams(Params):
    pass


class DocumentsResult(Result):
    """The documents the server has features for, as globs: the client's document selector and file watching."""

    logs: list[str] = Field(description="session logs: outline, hovers, lenses, coach diagnostics")
    instructions: list[str] = Field(description="instruction files (AGENTS.md, CLAUDE.md, ...): guideline lenses, hovers, diagnostics")
    evals: list[str] = Field(description="eval suites: schema and failing-check diagnostics, run lens")
    config: list[str] = Field(description="project configuration: a change re-reads it")
    sources: list[str] = Field(default_factory=list, description="workspace source files: agent blame hovers and lens")


# ---------------------------------------------------------------------- notifications (server -> client)
class StatusNotification(BaseModel):
    """``sessionlens/status``: indexing state and store counts."""

    state: Literal["indexing", "idle"]
    files: int = 0
    sessions: int = 0
    events: int = 0
    message: str = ""


class StreamNotification(BaseModel):
    """``sessionlens/stream``: one Markdown delta of a streamed AI answer (``done`` closes the stream)."""

    id: str
    delta: str
    done: bool
    error: str | None = None


NOTIFICATIONS: dict[str, type[BaseModel]] = {
    "sessionlens/status": StatusNotification,
    "sessionlens/stream": StreamNotification,
}


# ---------------------------------------------------------------------- the table
@dataclass(frozen=True)
class CommandContract:
    name: str
    params: type[Params]
    result: type[Result]
    summary: str


def _table(*rows: tuple[str, type[Params], type[Result], str]) -> dict[str, CommandContract]:
    out: dict[str, CommandContract] = {}
    for name, p, r, s in rows:
        if name in out:
            raise ValueError(f"command {name} declared twice")
        out[name] = CommandContract(name, p, r, s)
    return out


COMMANDS: dict[str, CommandContract] = _table(
    ("sessionlens.search", SearchParams, SearchResult, "full-text search over indexed events"),
    ("sessionlens.sessions", SessionsParams, SessionsResult, "list indexed sessions, newest first"),
    ("sessionlens.renderSession", RenderSessionParams, RenderSessionResult, "a session as Markdown"),
    ("sessionlens.renderSessionHtml", RenderSessionHtmlParams, RenderSessionHtmlResult, "a session as the sanitized HTML transcript"),
    ("sessionlens.resolveLink", ResolveLinkParams, ResolveLinkResult, "resolve a sessionlens:// link to a log and line"),
    ("sessionlens.deepLink", DeepLinkParams, DeepLinkResult, "the sessionlens:// link of a line in a log"),
    ("sessionlens.costReport", CostReportParams, CostReportResult, "token usage and cost, grouped"),
    ("sessionlens.reindex", ReindexParams, ReindexResult, "index the logs (or the given paths) now"),
    ("sessionlens.status", StatusParams, StatusResult, "store counts and whether indexing runs"),
    ("sessionlens.setApiKey", SetApiKeyParams, SetApiKeyResult, "set (or clear) the editor's Anthropic API key"),
    ("sessionlens.explainFinding", ExplainFindingParams, StreamedMarkdownResult, "AI explanation of a coach finding (streamed)"),
    (
        "sessionlens.showQuickFixTarget",
        ShowQuickFixTargetParams,
        ShowQuickFixTargetResult,
        "open the file a coach quick fix edited, or say why it cannot be applied",
    ),
    ("sessionlens.coachSession", CoachSessionParams, StreamedMarkdownResult, "AI coaching of a whole session (streamed)"),
    ("sessionlens.askCoach", AskCoachParams, StreamedMarkdownResult, "ask the coach about a session (streamed)"),
    ("sessionlens.conversation", ConversationParams, ConversationResult, "the coach conversation of a session"),
    ("sessionlens.clearConversation", ConversationParams, ClearConversationResult, "forget a session's coach conversation"),
    ("sessionlens.guidelineReport", GuidelineReportParams, GuidelineReportResult, "how each guideline of a file was followed"),
    ("sessionlens.extractGuidelines", ExtractGuidelinesParams, ExtractGuidelinesResult, "LLM extraction of checkable guidelines"),
    ("sessionlens.runEvals", RunEvalsParams, RunEvalsResult, "run one eval suite or all in the workspace"),
    ("sessionlens.documents", DocumentsParams, DocumentsResult, "the globs of the documents the server serves"),
    ("sessionlens.addHub", AddHubParams, AddHubResult, "add (or replace) a team hub: its sessions join search and the session list"),
    ("sessionlens.removeHub", HubRef, RemoveHubResult, "forget a team hub and its key"),
    ("sessionlens.hubs", HubsParams, HubsResult, "the team hubs added, with their status (keys masked)"),
    ("sessionlens.savedViews", SavedViewsParams, SavedViewsResult, "the saved views (named session filters) of the store"),
    ("sessionlens.blame", BlameParams, BlameResult, "which agent session wrote each line of a workspace file"),
)
