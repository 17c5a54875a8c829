import assert from 'node:assert/strict';
import { test } from 'node:test';
import { documentSelector } from '../src/lib/documents';
import { DOCUMENTS } from '../src/protocol.generated';

test('the document selector covers logs, instruction files and eval suites as the server declares them', () => {
  const patterns = documentSelector().map((f) => f.pattern);
  assert.ok(patterns.includes('**/*.jsonl'));
  assert.ok(patterns.includes('**/AGENTS.md') && patterns.includes('**/CLAUDE.md'));
  assert.ok(patterns.includes('**/*.eval.json'));
  assert.deepEqual(patterns, [...new Set([...DOCUMENTS.logs, ...DOCUMENTS.instructions, ...DOCUMENTS.evals, ...DOCUMENTS.sources])]);
  assert.ok(patterns.includes('**/*'), 'source files reach the server (agent blame)');
  assert.ok(documentSelector().every((f) => f.scheme === 'file'));
});

test('a declaration change changes the selector', () => {
  assert.deepEqual(documentSelector({ logs: ['**/*.log'], instructions: [], evals: [] }), [{ scheme: 'file', pattern: '**/*.log' }]);
});
