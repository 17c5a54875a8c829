import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deepLinkFromHandlerUri, formatOpenUri, formatSessionLink, parseSessionLink } from '../src/lib/links';

test('parses session links with and without an event', () => {
  assert.deepEqual(parseSessionLink('sessionlens://session/019c8a4d-8f45?event=42'), { sessionId: '019c8a4d-8f45', seq: 42 });
  assert.deepEqual(parseSessionLink('sessionlens://session/abc'), { sessionId: 'abc' });
  assert.deepEqual(parseSessionLink(' sessionlens://session/abc/ '), { sessionId: 'abc' });
  assert.deepEqual(parseSessionLink('sessionlens://session/a%20b?event=1'), { sessionId: 'a b', seq: 1 });
});

test('rejects links that are not session links', () => {
  assert.equal(parseSessionLink('https://example.com/session/abc'), undefined);
  assert.equal(parseSessionLink('sessionlens://session/'), undefined);
  assert.equal(parseSessionLink('sessionlens://session/abc?event=x'), undefined);
  assert.equal(parseSessionLink('sessionlens://session/abc?event=-3'), undefined);
  assert.equal(parseSessionLink('sessionlens://session/%E0%A4%A'), undefined);
});

test('formatting and parsing round-trip', () => {
  for (const link of [{ sessionId: 'x/y z', seq: 7 }, { sessionId: 'plain' }]) {
    assert.deepEqual(parseSessionLink(formatSessionLink(link)), link);
  }
  assert.equal(formatSessionLink({ sessionId: 'abc', seq: 3 }), 'sessionlens://session/abc?event=3');
});

test('the editor URI carries the encoded link and the handler gets it back', () => {
  const link = 'sessionlens://session/abc?event=12';
  const uri = formatOpenUri('vscode', 'sessionlens.sessionlens', link);
  assert.equal(uri, 'vscode://sessionlens.sessionlens/open?link=sessionlens%3A%2F%2Fsession%2Fabc%3Fevent%3D12');
  const parsed = new URL(uri);
  // encoded, as in the URI
  assert.equal(deepLinkFromHandlerUri(parsed.pathname, parsed.search.slice(1)), link);
  // decoded, as VS Code hands Uri.query to a URI handler
  assert.equal(deepLinkFromHandlerUri('/open', 'link=sessionlens://session/abc?event=12'), link);
});

test('the handler ignores other paths and bad links', () => {
  assert.equal(deepLinkFromHandlerUri('/other', 'link=sessionlens%3A%2F%2Fsession%2Fabc'), undefined);
  assert.equal(deepLinkFromHandlerUri('/open', 'link=https%3A%2F%2Fevil.example'), undefined);
  assert.equal(deepLinkFromHandlerUri('/open', ''), undefined);
});
