/** The transcript webview's page: the server renders the sanitized transcript (`sessionlens.renderSessionHtml`);
 * this only wraps it in a page with a strict CSP (no remote content, scripts and styles only under a nonce). */

export interface TranscriptParts {
  session_id: string;
  title: string;
  body: string;
  css: string;
  js: string;
  path?: string | null;
  log_missing?: boolean;
  /** the team hub the session came from (there is no raw log here) */
  hub?: string | null;
}

/** Paths that are agents' session logs (opened as a transcript by default). Keep in sync with package.json
 * (whose globs must not overlap: VS Code counts every matching glob as one more default editor). */
export const AGENT_LOG_PATTERNS: RegExp[] = [
  /\/\.claude\/projects\/.+\.jsonl$/,
  /\/rollout-[^/]*\.jsonl$/, // Codex: ~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl (and archived_sessions)
];

export function isAgentLogPath(path: string): boolean {
  return AGENT_LOG_PATTERNS.some((pattern) => pattern.test(path));
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

export function makeNonce(random: () => number = Math.random): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < 32; i++) {
    out += chars.charAt(Math.floor(random() * chars.length));
  }
  return out;
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

const BAR_CSS = `.sl-vscode-bar{display:flex;gap:8px;align-items:center;padding:4px 8px;
background:var(--vscode-editorWidget-background);border-bottom:1px solid var(--vscode-panel-border);font-size:12px}
.sl-vscode-bar button{background:var(--vscode-button-secondaryBackground);color:var(--vscode-button-secondaryForeground);border:none;padding:2px 8px;cursor:pointer}
.sl-vscode-bar .sl-hint{color:var(--vscode-descriptionForeground)}`;

/** The text file whose lines a session's events point at: the log itself (`.jsonl`, `.json`, `.txt`),
 * or the JSON-lines container of a member (`<export>.jsonl#<id>`: one session of Copilot's OTel export);
 * undefined for a session inside a database or a storage folder (its transcript is the only view). */
export function rawLogPath(path: string | null | undefined): string | undefined {
  if (!path) {
    return undefined;
  }
  if (/\.(jsonl?|txt)$/.test(path)) {
    return path;
  }
  const member = /^(.*\.jsonl)#[^/#]+$/.exec(path);
  return member ? member[1] : undefined;
}

/** The whole webview page for `parts` (server-rendered) with a strict CSP. */
export function transcriptPage(parts: TranscriptParts, cspSource: string, nonce: string): string {
  // (a session whose log is gone: the transcript's own banner says so, and there is no raw log to open)
  // (a session inside a database or a storage tree, path "<container>#<id>": no text log either)
  // (a team hub's session: rendered here from what the hub sent, no raw log on this machine)
  const textLog = !!rawLogPath(parts.path);
  const raw = parts.hub
    ? '<span class="sl-hint">From the team hub (rendered here; there is no raw log on this machine)</span>'
    : parts.log_missing
    ? '<span class="sl-hint">From the Session Lens store</span>'
    : !textLog
      ? '<span class="sl-hint">From the Session Lens store (the session lives in a database or storage folder of the agent)</span>'
      : '<button type="button" class="sl-open-raw" data-action="openRaw" title="Open the raw JSONL log">Open raw log</button>' +
      '<span class="sl-hint">Click “line N” on an event to reveal its raw line.</span>';
  // neither text can end its element early (nor open another): every closing tag is broken
  const close = (s: string): string => s.replace(/<\/(script|style)/gi, '<\\/$1');
  return (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(cspSource, nonce)}">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(parts.title)}</title>` +
    `<style nonce="${nonce}">${close(parts.css)}${BAR_CSS}</style></head><body>` +
    `<div class="sl-vscode-bar">${raw}</div>${parts.body}` +
    `<script nonce="${nonce}">${close(parts.js)}</script></body></html>`
  );
}

/** A page for a session that cannot be shown (not indexed yet, or an error): text only, no script. */
export function messagePage(title: string, message: string, cspSource: string, nonce: string): string {
  return (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(cspSource, nonce)}">` +
    `<style nonce="${nonce}">body{font:14px var(--vscode-font-family);color:var(--vscode-foreground);padding:20px}</style></head>` +
    `<body><h2>${escapeHtml(title)}</h2><p class="sl-message">${escapeHtml(message)}</p></body></html>`
  );
}
