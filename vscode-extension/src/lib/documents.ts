/**
 * The documents the client hands to the server, from what the server declares (`DOCUMENTS`,
 * generated from the server's contract: session logs, instruction files, eval suites).
 */
import { DOCUMENTS } from '../protocol.generated';

export interface FilePattern {
  scheme: 'file';
  pattern: string;
}

/** The language client's document selector: every glob the server serves a feature for (source files
 * included: agent blame hovers and lens; a file no session edited costs the server one indexed lookup). */
export function documentSelector(
  declared: { logs: readonly string[]; instructions: readonly string[]; evals: readonly string[]; sources?: readonly string[] } = DOCUMENTS,
): FilePattern[] {
  const globs = [...declared.logs, ...declared.instructions, ...declared.evals, ...(declared.sources ?? [])];
  return [...new Set(globs)].map((pattern) => ({ scheme: 'file', pattern }));
}
