import assert from 'node:assert/strict';
import { test } from 'node:test';
import { costReportCsp, costReportHtml, escapeHtml, svgImage } from '../src/lib/costReport';

test('escapeHtml escapes the five special characters', () => {
  assert.equal(escapeHtml(`<a href="x" onclick='y'>&</a>`), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
});

test('the table is the server-rendered HTML, framed as is', () => {
  const html = '<table>\n<thead><tr><th>model</th><th class=num>cost_usd</th></tr></thead>\n<tbody>\n<tr><td>&lt;b&gt;x</td><td class=num>1.00</td></tr>\n</tbody>\n</table>\n';
  const page = costReportHtml({ html, svg: '' }, 'vscode-resource:');
  assert.ok(page.includes(html));
  assert.doesNotMatch(page, /<img/);
});

test('the SVG goes through an img data URI, never inline', () => {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>';
  const img = svgImage(svg, 'chart "x"');
  assert.match(img, /^<img class="chart" alt="chart &quot;x&quot;" src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+">$/);
  const page = costReportHtml({ html: '<table><tr><td>&lt;script&gt;alert(2)&lt;/script&gt;</td></tr></table>', svg }, 'vscode-resource:');
  assert.doesNotMatch(page, /<script/i);
  assert.match(page, /&lt;script&gt;alert\(2\)&lt;\/script&gt;/);
  assert.ok(page.includes(Buffer.from(svg).toString('base64')));
});

test('the CSP allows no scripts', () => {
  const csp = costReportCsp('https://x.vscode-cdn.net');
  assert.match(csp, /default-src 'none'/);
  assert.doesNotMatch(csp, /script-src/);
  const page = costReportHtml({ html: '', svg: '' }, 'https://x.vscode-cdn.net');
  assert.match(page, /No cost data yet\./);
  assert.match(page, /Content-Security-Policy" content="default-src &#39;none&#39;; img-src data:/);
});
