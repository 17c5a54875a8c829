/**
 * The documents the client hands to the server, from what the server declares (`DOCUMENTS`,
 * generated from the server's contract: session logs, instruction files, eval suites).
 */
import { DOCUMENTS } from '../protocol.generated';

export interface FilePattern {
  scheme: 'file';
  pattern: string;
}

/** The language client's document selector: every glob the server serves a feature for. */
export function documentSelector(declared: { logs: readonly string[]; instructions: readonly string[]; evals: readonly string[] } = DOCUMENTS): FilePattern[] {
  return [...declared.logs, ...declared.instructions, ...declared.evals].map((pattern) => ({ scheme: 'file', pattern }));
}
