/** Formatting of server results for quick picks, tree items and the status bar. */

import type { SearchHit, SearchResult, SessionRow, StatusNotification, StatusResult } from '../protocol.generated';

export type { SearchHit, SearchResult };
/** One session of `sessionlens.sessions` (generated from the server's contract). */
export type SessionInfo = SessionRow;
/** Payload of `sessionlens.status` or of the `sessionlens/status` notification. */
export type StatusInfo = Partial<StatusNotification> & Partial<StatusResult>;

export interface QuickPickText {
  label: string;
  description: string;
  detail: string;
}

const MAX_LABEL = 120;

/** Collapses whitespace and cuts `text` to `max` characters with an ellipsis. */
export function oneLine(text: string | null | undefined, max = MAX_LABEL): string {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1).trimEnd()}…` : flat;
}

/** `2026-02-23T12:41:04Z` → `2026-02-23 12:41`; anything unparsable is returned as is. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) {
    return '';
  }
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]}` : iso;
}

/** The last path component of a project path (`/home/a/proj` → `proj`). */
export function projectLabel(project: string | null | undefined, projectName?: string | null): string {
  if (projectName) {
    return projectName;
  }
  if (!project) {
    return '(no project)';
  }
  const parts = project.split(/[\\/]+/).filter(Boolean);
  return parts.length ? parts[parts.length - 1] : project;
}

function joinParts(parts: Array<string | null | undefined>): string {
  return parts.filter((part): part is string => !!part).join(' · ');
}

/** Quick-pick text for a search hit: the snippet, then agent · project · date, then the title. */
export function searchHitText(hit: SearchHit): QuickPickText {
  const snippet = oneLine(hit.snippet) || oneLine(hit.title) || `${hit.kind ?? 'event'} #${hit.seq}`;
  const icon = kindIcon(hit.kind, hit.tool);
  return {
    label: `${icon} ${snippet}`,
    description: joinParts([
      hit.agent,
      hit.project ? projectLabel(hit.project) : hit.project_name ?? undefined,
      formatDate(hit.timestamp),
    ]),
    detail: joinParts([
      oneLine(hit.title, 80) || undefined,
      hit.tool ? `tool ${hit.tool}` : undefined,
      hit.hub ? `team hub ${oneLine(hit.hub_name ?? hit.hub, 40)}` : `${basename(hit.path)}:${hit.line}`,
    ]),
  };
}

/** A codicon for an event kind. */
export function kindIcon(kind: string | null | undefined, tool?: string | null): string {
  switch (kind) {
    case 'user':
    case 'user_message':
      return '$(account)';
    case 'assistant':
    case 'assistant_message':
    case 'message':
      return '$(hubot)';
    case 'reasoning':
    case 'thinking':
      return '$(lightbulb)';
    case 'tool_call':
    case 'tool_use':
      return '$(tools)';
    case 'tool_result':
    case 'tool_output':
      return '$(output)';
    case 'error':
      return '$(error)';
    default:
      return tool ? '$(tools)' : '$(note)';
  }
}

/** Tree/quick-pick description of a session: date · agent · model · $cost. */
export function sessionDescription(session: SessionInfo): string {
  return joinParts([
    formatDate(session.started_at),
    session.agent,
    session.models?.length ? session.models.join(', ') : undefined,
    session.cost_label || undefined,
  ]);
}

/** The label of a session: its title, else its id. */
export function sessionLabel(session: SessionInfo): string {
  return oneLine(session.title, 100) || session.id;
}

/** Markdown tooltip of a session (every value is escaped). */
export function sessionTooltip(session: SessionInfo): string {
  const rows: Array<[string, string]> = [
    ['Session', session.id],
    ['Agent', session.agent ?? ''],
    ['Project', session.project ?? ''],
    ['Started', formatDate(session.started_at)],
    ['Ended', formatDate(session.ended_at)],
    ['Models', (session.models ?? []).join(', ')],
    ['Turns', session.turns === null || session.turns === undefined ? '' : String(session.turns)],
    ['Events', session.events === null || session.events === undefined ? '' : String(session.events)],
    ['Tokens', session.tokens === null || session.tokens === undefined ? '' : session.tokens.toLocaleString('en-US')],
    ['Cost', session.cost_label],
    ['File', session.path],
  ];
  const title = `**${escapeMarkdown(sessionLabel(session))}**`;
  const body = rows
    .filter(([, value]) => value !== '')
    .map(([key, value]) => `${key}: ${escapeMarkdown(value)}`)
    .join('  \n');
  return `${title}\n\n${body}`;
}

/** Escapes Markdown control characters so server text renders literally. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (ch) => `\\${ch}`);
}

export interface ProjectGroup {
  key: string;
  label: string;
  sessions: SessionInfo[];
  /** the team hub of these sessions (undefined: this machine's store) */
  hub?: string;
}

/**
 * Groups sessions by project, keeping the server's order (newest first) for groups and sessions.
 * A team hub's sessions form groups of their own, labelled with the hub (`alpha · team Acme`).
 */
export function groupSessionsByProject(sessions: readonly SessionInfo[]): ProjectGroup[] {
  const groups = new Map<string, ProjectGroup>();
  for (const session of sessions) {
    const key = session.hub ? `hub:${session.hub}\n${session.project ?? ''}` : session.project ?? '';
    let group = groups.get(key);
    if (!group) {
      const label = projectLabel(session.project, session.project_name);
      group = session.hub
        ? { key, label: `${label} · team ${oneLine(session.hub_name ?? session.hub, 40)}`, sessions: [], hub: session.hub }
        : { key, label, sessions: [] };
      groups.set(key, group);
    }
    group.sessions.push(session);
  }
  return [...groups.values()];
}

/** The status bar text for a status payload. */
export function statusBarText(status: StatusInfo): string {
  if (isIndexing(status)) {
    return `$(sync~spin) Indexing… ${status.files ?? 0}`;
  }
  const n = status.sessions ?? 0;
  return `$(database) ${n} ${n === 1 ? 'session' : 'sessions'}`;
}

/** Whether a status payload says the server is indexing. */
export function isIndexing(status: StatusInfo): boolean {
  return status.state !== undefined ? status.state === 'indexing' : status.indexing === true;
}

function basename(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}
