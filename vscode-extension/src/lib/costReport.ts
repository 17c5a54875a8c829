/**
 * HTML of the cost report webview: the server renders the table (`html`, every cell escaped) and
 * the chart (`svg`) of `sessionlens.costReport`; this only frames them. The SVG is shown through an
 * `<img>` data URI so nothing in it can run, and the page's CSP allows no scripts at all.
 */
import type { CostReportResult } from '../protocol.generated';

export type CostReport = Pick<CostReportResult, 'html' | 'svg'> & Partial<CostReportResult>;

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
  const body = report.html && report.html.trim() ? report.html : '<p>No cost data yet.</p>';
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
  .num { text-align: right; font-variant-numeric: tabular-nums; }
  tr.total td { font-weight: bold; }
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
