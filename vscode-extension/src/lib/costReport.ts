/**
 * HTML of the cost report webview, built from the `markdown` and `svg` of `sessionlens.costReport`.
 * Every piece of server text is escaped; the SVG is shown through an `<img>` data URI so nothing
 * in it can run, and the page's CSP allows no scripts at all.
 */

export interface CostReport {
  markdown?: string | null;
  svg?: string | null;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => {
    switch (ch) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&#39;';
    }
  });
}

type Align = 'left' | 'right' | 'center' | undefined;

function splitRow(line: string): string[] {
  let body = line.trim();
  if (body.startsWith('|')) {
    body = body.slice(1);
  }
  if (body.endsWith('|') && !body.endsWith('\\|')) {
    body = body.slice(0, -1);
  }
  const cells: string[] = [];
  let current = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === '\\' && body[i + 1] === '|') {
      current += '|';
      i++;
    } else if (ch === '|') {
      cells.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  cells.push(current.trim());
  return cells;
}

function isSeparatorRow(line: string): boolean {
  const cells = splitRow(line);
  return cells.length > 0 && cells.every((cell) => /^:?-{1,}:?$/.test(cell));
}

function alignOf(cell: string): Align {
  const left = cell.startsWith(':');
  const right = cell.endsWith(':');
  if (left && right) {
    return 'center';
  }
  if (right) {
    return 'right';
  }
  return left ? 'left' : undefined;
}

/** Inline Markdown: `code` and **bold**, everything else escaped. */
function inline(text: string): string {
  const parts = text.split(/(`[^`]+`|\*\*[^*]+\*\*)/g);
  return parts
    .map((part) => {
      if (part.length > 2 && part.startsWith('`') && part.endsWith('`')) {
        return `<code>${escapeHtml(part.slice(1, -1))}</code>`;
      }
      if (part.length > 4 && part.startsWith('**') && part.endsWith('**')) {
        return `<strong>${escapeHtml(part.slice(2, -2))}</strong>`;
      }
      return escapeHtml(unescapeMarkdown(part));
    })
    .join('');
}

/** Drops Markdown backslash escapes (`cache\_read` → `cache_read`). */
function unescapeMarkdown(text: string): string {
  return text.replace(/\\([\\`*_{}[\]()#+\-.!|<>~])/g, '$1');
}

function cellTag(tag: 'th' | 'td', text: string, align: Align): string {
  const style = align ? ` style="text-align:${align}"` : '';
  return `<${tag}${style}>${inline(text)}</${tag}>`;
}

/**
 * Converts the simple Markdown the server emits (headings, paragraphs, bullet lists and pipe
 * tables) to HTML. Anything else is shown as an escaped paragraph.
 */
export function markdownToHtml(markdown: string): string {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const trimmed = line.trim();
    if (!trimmed) {
      i++;
      continue;
    }
    if (trimmed.startsWith('|') && i + 1 < lines.length && isSeparatorRow(lines[i + 1])) {
      const header = splitRow(trimmed);
      const aligns = splitRow(lines[i + 1]).map(alignOf);
      i += 2;
      const rows: string[][] = [];
      while (i < lines.length && lines[i].trim().startsWith('|')) {
        rows.push(splitRow(lines[i]));
        i++;
      }
      const head = header.map((cell, c) => cellTag('th', cell, aligns[c])).join('');
      const body = rows
        .map((row) => `<tr>${header.map((_, c) => cellTag('td', row[c] ?? '', aligns[c])).join('')}</tr>`)
        .join('\n');
      out.push(`<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(trimmed);
    if (heading) {
      const level = heading[1].length;
      out.push(`<h${level}>${inline(heading[2])}</h${level}>`);
      i++;
      continue;
    }
    if (/^[-*]\s+/.test(trimmed)) {
      const items: string[] = [];
      while (i < lines.length && /^[-*]\s+/.test(lines[i].trim())) {
        items.push(`<li>${inline(lines[i].trim().replace(/^[-*]\s+/, ''))}</li>`);
        i++;
      }
      out.push(`<ul>\n${items.join('\n')}\n</ul>`);
      continue;
    }
    const paragraph: string[] = [];
    while (i < lines.length && lines[i].trim() && !lines[i].trim().startsWith('|') && !/^(#{1,6})\s/.test(lines[i].trim())) {
      paragraph.push(inline(lines[i].trim()));
      i++;
    }
    if (paragraph.length === 0) {
      // a lone pipe line that is not a table
      paragraph.push(inline(trimmed));
      i++;
    }
    out.push(`<p>${paragraph.join('<br>\n')}</p>`);
  }
  return out.join('\n');
}

/** An `<img>` showing `svg` as a data URI (SVG in an image can't run scripts). */
export function svgImage(svg: string, alt: string): string {
  const data = Buffer.from(svg, 'utf8').toString('base64');
  return `<img class="chart" alt="${escapeHtml(alt)}" src="data:image/svg+xml;base64,${data}">`;
}

/** The Content-Security-Policy of the cost report: no scripts, images only from data URIs. */
export function costReportCsp(cspSource: string): string {
  return [
    "default-src 'none'",
    'img-src data:',
    `style-src ${cspSource} 'unsafe-inline'`,
    `font-src ${cspSource}`,
  ].join('; ');
}

/** The full HTML page of the cost report webview. */
export function costReportHtml(report: CostReport, cspSource: string): string {
  const chart = report.svg && report.svg.trim() ? svgImage(report.svg, 'Cost chart') : '';
  const body = report.markdown && report.markdown.trim() ? markdownToHtml(report.markdown) : '<p>No cost data yet.</p>';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(costReportCsp(cspSource))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Session Lens: Cost Report</title>
<style>
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 16px 16px; }
  table { border-collapse: collapse; margin: 8px 0 16px; }
  th, td { border: 1px solid var(--vscode-panel-border, #8884); padding: 3px 8px; }
  th { background: var(--vscode-editorWidget-background, transparent); }
  code { font-family: var(--vscode-editor-font-family); }
  .chart { max-width: 100%; background: #fff; border-radius: 4px; margin: 8px 0; }
</style>
</head>
<body>
${chart}
${body}
</body>
</html>
`;
}
