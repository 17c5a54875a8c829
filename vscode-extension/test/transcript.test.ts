import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentSecurityPolicy, isAgentLogPath, makeNonce, messagePage, rawLogPath, transcriptPage } from '../src/lib/transcript';

const parts = {
  session_id: 's1',
  title: 'Fix <the> build',
  body: '<div class="sl-page">body</div>',
  css: 'body{color:red}</style><script>alert(1)</script>',
  js: 'console.log("</script><img src=x onerror=alert(1)>")',
  path: '/w/s1.jsonl',
  log_missing: false,
};

test('the transcript page has a strict CSP: no remote content, scripts and styles only under the nonce', () => {
  const nonce = makeNonce();
  const html = transcriptPage(parts, 'vscode-webview://abc', nonce);
  const csp = /content="([^"]+)"/.exec(html)?.[1] ?? '';
  assert.equal(csp, contentSecurityPolicy('vscode-webview://abc', nonce));
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'nonce-[A-Za-z0-9]{32}'/);
  assert.doesNotMatch(csp, /unsafe-inline|https?:/);
  assert.equal((html.match(/<script nonce=/g) ?? []).length, 1, 'one script: the server-rendered transcript script');
  assert.equal((html.match(/<\/script>/g) ?? []).length, 1, 'the script cannot be closed early from its text');
  assert.equal((html.match(/<\/style>/g) ?? []).length, 1);
  assert.match(html, /<title>Fix &lt;the&gt; build<\/title>/);
  assert.match(html, /data-action="openRaw"/, 'Open raw log is one click away');
});

test('a session whose log is gone says so instead of offering the raw log', () => {
  const html = transcriptPage({ ...parts, log_missing: true }, 'x', makeNonce());
  assert.doesNotMatch(html, /data-action="openRaw"/);
  assert.match(html, /Session Lens store/);
});

test('a team session says where it came from and offers no raw log', () => {
  const html = transcriptPage({ ...parts, hub: 'https://hub.example' }, 'x', makeNonce());
  assert.doesNotMatch(html, /data-action="openRaw"/);
  assert.match(html, /From the team hub/);
});

test('a session inside a database offers no raw log (its path names a row, not a text file)', () => {
  for (const path of ['/w/.crush/crush.db#f306c145', '/d/storage/session/p/ses_1.json#ses_1']) {
    const html = transcriptPage({ ...parts, path }, 'x', makeNonce());
    assert.doesNotMatch(html, /data-action="openRaw"/, path);
    assert.match(html, /database or storage folder/, path);
  }
  for (const path of ['/w/chats/session-1.json', '/w/agent-transcripts/a.txt']) {
    assert.match(transcriptPage({ ...parts, path }, 'x', makeNonce()), /data-action="openRaw"/, path);
  }
});

test('the raw log of a session: the file itself, or the JSON-lines export a member comes from', () => {
  assert.equal(rawLogPath('/w/a.jsonl'), '/w/a.jsonl');
  assert.equal(rawLogPath('/h/.copilot/otel/cli.jsonl#c0ffee00-1111'), '/h/.copilot/otel/cli.jsonl');
  assert.equal(rawLogPath('/w/.crush/crush.db#f306c145'), undefined);
  assert.equal(rawLogPath('/d/storage/session/p/ses_1.json#ses_1'), undefined);
  assert.equal(rawLogPath(null), undefined);
});

test('message pages escape their text and run no script', () => {
  const html = messagePage('<b>t</b>', 'error <script>', 'x', makeNonce());
  assert.doesNotMatch(html, /<script/);
  assert.match(html, /&lt;b&gt;t&lt;\/b&gt;/);
});

test('agents log folders open as transcripts by default', () => {
  assert.ok(isAgentLogPath('/home/u/.claude/projects/-home-u-p/0a.jsonl'));
  assert.ok(isAgentLogPath('/home/u/.codex/sessions/2026/02/01/rollout-2026-02-01T09-00-00-x.jsonl'));
  assert.ok(!isAgentLogPath('/w/data/events.jsonl'));
});
