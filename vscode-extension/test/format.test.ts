import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  escapeMarkdown,
  formatDate,
  groupSessionsByProject,
  isIndexing,
  oneLine,
  SearchHit,
  searchHitText,
  SessionInfo,
  StatusInfo,
  sessionDescription,
  sessionLabel,
  sessionTooltip,
  statusBarText,
} from '../src/lib/format';

const hit = {
  session_id: 's1',
  seq: 12,
  path: '/logs/rollout-1.jsonl',
  uri: 'file:///logs/rollout-1.jsonl',
  line: 12,
  agent: 'codex',
  project: '/home/ann/src/shop',
  kind: 'tool_call',
  tool: 'shell',
  timestamp: '2026-02-23T12:41:04.123Z',
  title: 'Fix the\n checkout bug',
  snippet: 'ran   the\nmigration',
} as SearchHit;

test('search items show snippet, agent, project and date', () => {
  assert.deepEqual(searchHitText(hit), {
    label: '$(tools) ran the migration',
    description: 'codex · shop · 2026-02-23 12:41',
    detail: 'Fix the checkout bug · tool shell · rollout-1.jsonl:12',
  });
});

test('a hit without snippet falls back to the title, then kind and seq', () => {
  assert.equal(searchHitText({ ...hit, snippet: '' } as SearchHit).label, '$(tools) Fix the checkout bug');
  assert.equal(searchHitText({ ...hit, snippet: null, title: null, kind: 'user', tool: null } as SearchHit).label, '$(account) user #12');
  const bare = searchHitText({ session_id: 's', seq: 1, path: 'a.jsonl', uri: '', line: 1 } as SearchHit);
  assert.equal(bare.description, '');
  assert.equal(bare.detail, 'a.jsonl:1');
});

test('oneLine collapses whitespace and cuts long text', () => {
  assert.equal(oneLine(' a \n\t b '), 'a b');
  assert.equal(oneLine('x'.repeat(200), 10), `${'x'.repeat(9)}…`);
  assert.equal(oneLine(undefined), '');
});

test('dates', () => {
  assert.equal(formatDate('2026-02-23T20:34:25Z'), '2026-02-23 20:34');
  assert.equal(formatDate('yesterday'), 'yesterday');
  assert.equal(formatDate(null), '');
});

// as the server sends them: newest first, costs already formatted
const sessions = [
  {
    id: 'b',
    agent: 'claude',
    project: '/p/blog',
    project_name: 'blog',
    title: 'newest',
    started_at: '2026-03-01T10:00:00Z',
    models: ['claude-opus-4', 'claude-haiku-4'],
    cost_usd: 3.5,
    cost_known: true,
    cost_label: '$3.50',
    path: '/b',
    uri: 'file:///b',
  },
  { id: 'c', agent: 'codex', project: '/p/shop', title: null, started_at: '2026-02-01T00:00:00Z', path: '/c', uri: 'file:///c' },
  { id: 'a', agent: 'codex', project: '/p/shop', title: 'old', started_at: '2026-01-01T00:00:00Z', path: '/a', uri: 'file:///a' },
  { id: 'd', agent: 'codex', project: null, path: '/d', uri: 'file:///d' },
] as SessionInfo[];

test('sessions are grouped by project in the server\'s order', () => {
  const groups = groupSessionsByProject(sessions);
  assert.deepEqual(
    groups.map((group) => [group.label, group.sessions.map((s) => s.id)]),
    [
      ['blog', ['b']],
      ['shop', ['c', 'a']],
      ['(no project)', ['d']],
    ],
  );
});

test('a team hub\'s sessions form groups of their own, labelled with the hub', () => {
  const team = [
    { id: 't1', agent: 'claude', project: '/src/shop', project_name: 'shop', path: '', hub: 'https://hub.example', hub_name: 'Acme' },
    { id: 't2', agent: 'codex', project: '/src/shop', project_name: 'shop', path: '', hub: 'https://hub.example', hub_name: 'Acme' },
  ] as SessionInfo[];
  const groups = groupSessionsByProject([...sessions, ...team]);
  assert.deepEqual(
    groups.map((group) => [group.label, group.hub, group.sessions.map((s) => s.id)]),
    [
      ['blog', undefined, ['b']],
      ['shop', undefined, ['c', 'a']],
      ['(no project)', undefined, ['d']],
      ['shop · team Acme', 'https://hub.example', ['t1', 't2']],
    ],
  );
});

test('a team search hit names its hub instead of a file', () => {
  const hit = { session_id: 's', seq: 3, line: 3, path: '', uri: null, link: '', agent: 'claude', project_name: 'shop',
    snippet: 'found it', hub: 'https://hub.example', hub_name: 'Acme' } as unknown as SearchHit;
  const text = searchHitText(hit);
  assert.equal(text.description, 'claude · shop');
  assert.equal(text.detail, 'team hub Acme');
});

test('session label, description and tooltip', () => {
  assert.equal(sessionLabel(sessions[0]), 'newest');
  assert.equal(sessionLabel(sessions[1]), 'c');
  assert.equal(sessionDescription(sessions[0]), '2026-03-01 10:00 · claude · claude-opus-4, claude-haiku-4 · $3.50');
  assert.equal(sessionDescription(sessions[3]), 'codex');
  const tooltip = sessionTooltip({ ...sessions[0], title: 'fix *all* [bugs]', tokens: 12345 });
  assert.match(tooltip, /^\*\*fix \\\*all\\\* \\\[bugs\\\]\*\*/);
  assert.match(tooltip, /Tokens: 12,345/);
  assert.match(tooltip, /Cost: \$3\\\.50/);
  assert.doesNotMatch(tooltip, /Ended:/);
});

test('markdown escaping neutralizes links and emphasis', () => {
  assert.equal(escapeMarkdown('[x](command:evil)'), '\\[x\\]\\(command:evil\\)');
});

test('status bar text while indexing and when idle', () => {
  assert.equal(statusBarText({ state: 'indexing', files: 7, sessions: 3 } as StatusInfo), '$(sync~spin) Indexing… 7');
  assert.equal(statusBarText({ state: 'idle', sessions: 12 } as StatusInfo), '$(database) 12 sessions');
  assert.equal(statusBarText({ indexing: false, sessions: 1 } as StatusInfo), '$(database) 1 session');
  assert.equal(statusBarText({ indexing: true, files: 2 } as StatusInfo), '$(sync~spin) Indexing… 2');
  assert.equal(isIndexing({ state: 'idle', indexing: true } as StatusInfo), false);
});
