import * as vscode from 'vscode';
import { CostReport, costReportHtml } from './lib/costReport';
import { errorMessage, ServerManager } from './server';

let panel: vscode.WebviewPanel | undefined;

/** Shows `sessionlens.costReport` (table + chart) in a script-less webview. */
export async function showCostReport(server: ServerManager, argument: object = {}): Promise<void> {
  let report: CostReport;
  try {
    report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'Session Lens: computing costs' },
      () => server.executeCommand('sessionlens.costReport', argument),
    );
  } catch (error) {
    void vscode.window.showErrorMessage(`Session Lens: cost report failed: ${errorMessage(error)}`);
    return;
  }
  if (!panel) {
    panel = vscode.window.createWebviewPanel(
      'sessionlens.costReport',
      'Session Lens: Cost Report',
      vscode.ViewColumn.Active,
      { enableScripts: false, enableCommandUris: false, localResourceRoots: [] },
    );
    panel.onDidDispose(() => {
      panel = undefined;
    });
  } else {
    panel.reveal();
  }
  panel.webview.html = costReportHtml(report ?? {}, panel.webview.cspSource);
}
