/**
 * Deep links to a session event: `sessionlens://session/<id>?event=<seq>`, and the editor URI
 * that carries one: `<scheme>://<publisher>.<name>/open?link=<encoded deep link>`.
 */

export interface SessionLink {
  sessionId: string;
  /** The event's sequence number (its 1-based line), when the link points at one event. */
  seq?: number;
}

const SESSION_LINK = /^sessionlens:\/\/session\/([^?#/]+)\/?(?:\?([^#]*))?(?:#.*)?$/;

/** Parses a `sessionlens://session/<id>?event=<seq>` link; undefined when it is not one. */
export function parseSessionLink(link: string): SessionLink | undefined {
  const match = SESSION_LINK.exec(link.trim());
  if (!match) {
    return undefined;
  }
  let sessionId: string;
  try {
    sessionId = decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
  if (!sessionId) {
    return undefined;
  }
  const params = new URLSearchParams(match[2] ?? '');
  const event = params.get('event');
  if (event === null || event === '') {
    return { sessionId };
  }
  if (!/^\d+$/.test(event)) {
    return undefined;
  }
  return { sessionId, seq: Number(event) };
}

/** Formats a deep link; the inverse of {@link parseSessionLink}. */
export function formatSessionLink(link: SessionLink): string {
  const base = `sessionlens://session/${encodeURIComponent(link.sessionId)}`;
  return link.seq === undefined ? base : `${base}?event=${link.seq}`;
}

/** The editor URI that opens `link` through this extension's URI handler. */
export function formatOpenUri(uriScheme: string, extensionId: string, link: string): string {
  return `${uriScheme}://${extensionId}/open?link=${encodeURIComponent(link)}`;
}

/**
 * Extracts the deep link from the path and query of a URI handed to the URI handler.
 * Returns undefined unless the path is `/open` and `link` is a valid session link.
 */
export function deepLinkFromHandlerUri(path: string, query: string): string | undefined {
  if (path.replace(/\/+$/, '') !== '/open') {
    return undefined;
  }
  // VS Code hands the query percent-decoded, so a link that itself has a query
  // (`?event=5`) may arrive raw; try the parsed form first, then the raw remainder.
  const candidates: string[] = [];
  const parsed = new URLSearchParams(query).get('link');
  if (parsed) {
    candidates.push(parsed);
  }
  const raw = /(?:^|&)link=(.*)$/.exec(query);
  if (raw) {
    candidates.push(raw[1]);
    try {
      candidates.push(decodeURIComponent(raw[1]));
    } catch {
      // not percent-encoded; the raw form was already tried
    }
  }
  return candidates.find((candidate) => parseSessionLink(candidate) !== undefined);
}
