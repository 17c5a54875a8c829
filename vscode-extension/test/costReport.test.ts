import assert from 'node:assert/strict';
import { test } from 'node:test';
import { costReportCsp, costReportHtml, escapeHtml, markdownToHtml, svgImage } from '../src/lib/costReport';

test('escapeHtml escapes the five special characters', () => {
  assert.equal(escapeHtml(`<a href="x" onclick='y'>&</a>`), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
});

test('a pipe table becomes an HTML table with alignment', () => {
  const html = markdownToHtml('| model | cost |\n|:---|---:|\n| gpt-5 | $1.00 |\n| a\\|b | <b>x</b> |\n');
  assert.equal(
    html,
    '<table>\n<thead><tr><th style="text-align:left">model</th><th style="text-align:right">cost</th></tr></thead>\n<tbody>\n' +
      '<tr><td style="text-align:left">gpt-5</td><td style="text-align:right">$1.00</td></tr>\n' +
      '<tr><td style="text-align:left">a|b</td><td style="text-align:right">&lt;b&gt;x&lt;/b&gt;</td></tr>\n' +
      '</tbody>\n</table>',
  );
});

test('headings, lists, paragraphs and inline code are escaped', () => {
  const html = markdownToHtml('# Costs <script>\n\n- one `<i>`\n- **two**\n\nplain & simple\nsecond line');
  assert.equal(
    html,
    '<h1>Costs &lt;script&gt;</h1>\n<ul>\n<li>one <code>&lt;i&gt;</code></li>\n<li><strong>two</strong></li>\n</ul>\n' +
      '<p>plain &amp; simple<br>\nsecond line</p>',
  );
});

test('Markdown backslash escapes are dropped outside code', () => {
  assert.equal(markdownToHtml('| cache\\_read | a\\*b |\n|---|---|\n| 1 | 2 |'), markdownToHtml('| cache_read | a*b |\n|---|---|\n| 1 | 2 |'));
  assert.match(markdownToHtml('x \\<b\\> `a\\_b`'), /^<p>x &lt;b&gt; <code>a\\_b<\/code><\/p>$/);
});

test('short rows are padded and a pipe line without separator is a paragraph', () => {
  assert.match(markdownToHtml('| a | b |\n|---|---|\n| 1 |\n'), /<tr><td>1<\/td><td><\/td><\/tr>/);
  assert.equal(markdownToHtml('| not a table'), '<p>| not a table</p>');
});

test('the SVG goes through an img data URI, never inline', () => {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>';
  const img = svgImage(svg, 'chart "x"');
  assert.match(img, /^<img class="chart" alt="chart &quot;x&quot;" src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+">$/);
  const page = costReportHtml({ markdown: '| a |\n|---|\n| <script>alert(2)</script> |', svg }, 'vscode-resource:');
  assert.doesNotMatch(page, /<script/i);
  assert.match(page, /&lt;script&gt;alert\(2\)&lt;\/script&gt;/);
  assert.ok(page.includes(Buffer.from(svg).toString('base64')));
});

test('the CSP allows no scripts', () => {
  const csp = costReportCsp('https://x.vscode-cdn.net');
  assert.match(csp, /default-src 'none'/);
  assert.doesNotMatch(csp, /script-src/);
  const page = costReportHtml({}, 'https://x.vscode-cdn.net');
  assert.match(page, /No cost data yet\./);
  assert.match(page, /Content-Security-Policy" content="default-src &#39;none&#39;; img-src data:/);
});
