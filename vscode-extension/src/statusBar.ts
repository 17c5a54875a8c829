import * as vscode from 'vscode';
import { isIndexing, StatusInfo, statusBarText } from './lib/format';
import { ServerManager, ServerState } from './server';

/** The status bar item: indexing progress, the number of sessions, or the server's trouble. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('sessionlens.status', vscode.StatusBarAlignment.Left, 10);

  constructor(private readonly server: ServerManager) {
    this.item.name = 'Session Lens';
    this.showState(server.state);
    this.item.show();
  }

  showState(state: ServerState): void {
    switch (state) {
      case 'starting':
        this.set('$(loading~spin) Session Lens', 'Starting the Session Lens server…', 'sessionlens.ui.searchSessions');
        break;
      case 'failed':
        this.set('$(error) Session Lens', this.server.error ?? 'The Session Lens server is not running.', 'sessionlens.ui.restartServer');
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        return;
      case 'stopped':
        this.set('$(debug-disconnect) Session Lens', 'The Session Lens server is stopped. Click to restart it.', 'sessionlens.ui.restartServer');
        break;
      case 'running':
        // the text comes with the first status
        break;
    }
    this.item.backgroundColor = undefined;
  }

  showStatus(status: StatusInfo): void {
    const lines = [
      isIndexing(status) ? 'Session Lens: indexing' : 'Session Lens: idle',
      `${status.sessions ?? 0} sessions, ${status.events ?? 0} events in ${status.files ?? 0} files`,
    ];
    if (status.message) {
      lines.push(status.message);
    }
    if (status.store) {
      lines.push(`Store: ${status.store}`);
    }
    lines.push('Click to search sessions');
    this.set(statusBarText(status), lines.join('\n'), 'sessionlens.ui.searchSessions');
    this.item.backgroundColor = undefined;
  }

  private set(text: string, tooltip: string, command: string): void {
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.command = command;
  }

  dispose(): void {
    this.item.dispose();
  }
}
