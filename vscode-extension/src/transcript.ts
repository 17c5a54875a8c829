import * as vscode from 'vscode';
import { isAgentLogPath, makeNonce, messagePage, rawLogPath, TranscriptParts, transcriptPage } from './lib/transcript';
import { errorMessage, ServerManager } from './server';

export const TRANSCRIPT_VIEW = 'sessionlens.transcript';
/** The same editor for any .jsonl (an option of "Reopen Editor With…"; agents' log folders get the default one). */
export const TRANSCRIPT_ANY_VIEW = 'sessionlens.transcriptAny';

interface Target {
  sessionId?: string;
  logUri?: vscode.Uri;
  /** the team hub the session is on (the server fetches and renders it) */
  hub?: string;
}

interface Live {
  webview: vscode.Webview;
  target: Target;
  reveal?: number; // the event (1-based line) to show once the page is ready
  logUri?: vscode.Uri; // the log file (when it exists)
  visible: () => boolean;
}

/**
 * Session transcripts: the custom editor of the agents' logs (the default view of a log) and panels
 * for sessions by id (a log that no longer exists opens from the store). The server renders the HTML;
 * the webview only shows, folds, filters and finds; clicks on "line N" reveal the raw line.
 */
export class TranscriptManager implements vscode.CustomReadonlyEditorProvider, vscode.Disposable {
  private readonly live = new Set<Live>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly server: ServerManager) {
    this.disposables.push(
      // the raw log's cursor moves the transcript to the same event (outline and transcript stay in step)
      vscode.window.onDidChangeTextEditorSelection((event) => {
        const uri = event.textEditor.document.uri.toString();
        for (const l of this.live) {
          if (l.logUri?.toString() === uri && l.visible()) {
            void l.webview.postMessage({ type: 'reveal', seq: event.selections[0].active.line + 1 });
          }
        }
      }),
      server.onState((state) => {
        if (state === 'running') {
          for (const l of this.live) {
            void this.render(l);
          }
        }
      }),
    );
  }

  register(): vscode.Disposable {
    const options = { webviewOptions: { enableFindWidget: true, retainContextWhenHidden: true }, supportsMultipleEditorsPerDocument: true };
    return vscode.Disposable.from(
      vscode.window.registerCustomEditorProvider(TRANSCRIPT_VIEW, this, options),
      vscode.window.registerCustomEditorProvider(TRANSCRIPT_ANY_VIEW, this, options),
    );
  }

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    this.attach(panel, { logUri: document.uri }, document.uri);
  }

  /** A session by id (from the Sessions view or a search hit), as a panel. */
  async showSession(sessionId: string, title: string, logUri?: vscode.Uri, seq?: number, hub?: string | null): Promise<void> {
    const panel = vscode.window.createWebviewPanel(TRANSCRIPT_VIEW, title.slice(0, 60) || 'Session', vscode.ViewColumn.Active, {
      enableScripts: true,
      enableFindWidget: true,
      retainContextWhenHidden: true,
      localResourceRoots: [],
    });
    this.attach(panel, hub ? { sessionId, hub } : { sessionId }, logUri, seq);
  }

  private attach(panel: vscode.WebviewPanel, target: Target, logUri?: vscode.Uri, seq?: number): void {
    panel.webview.options = { enableScripts: true, localResourceRoots: [] };
    const l: Live = { webview: panel.webview, target, logUri, visible: () => panel.visible, reveal: seq };
    this.live.add(l);
    panel.onDidDispose(() => this.live.delete(l));
    panel.webview.onDidReceiveMessage((message: { type?: string; line?: number }) => {
      if (l.target.hub && (message?.type === 'revealLine' || message?.type === 'openRaw')) {
        void vscode.window.showInformationMessage('Session Lens: this session is on the team hub; there is no raw log on this machine.');
      } else if (message?.type === 'revealLine' && typeof message.line === 'number') {
        void revealRawLine(l.logUri, message.line);
      } else if (message?.type === 'openRaw') {
        void revealRawLine(l.logUri, 1);
      } else if (message?.type === 'ready' && l.reveal) {
        void l.webview.postMessage({ type: 'reveal', seq: l.reveal });
      }
    });
    void this.render(l, panel);
  }

  private async render(l: Live, panel?: vscode.WebviewPanel): Promise<void> {
    const nonce = makeNonce();
    const csp = l.webview.cspSource;
    const argument = l.target.sessionId
      ? { session_id: l.target.sessionId, ...(l.target.hub ? { hub: l.target.hub } : {}) }
      : { uri: l.target.logUri?.toString() };
    if (!l.webview.html) {
      l.webview.html = messagePage('Session Lens', 'Rendering the session…', csp, nonce);
    }
    try {
      const parts: TranscriptParts = await this.server.executeCommand('sessionlens.renderSessionHtml', argument);
      const raw = rawLogPath(parts.path);
      if (raw && !parts.log_missing && !l.logUri) {  // a text log (not a database)
        l.logUri = vscode.Uri.file(raw);
      }
      if (parts.log_missing) {
        l.logUri = undefined;
      }
      if (panel && l.target.sessionId) {
        panel.title = parts.title.slice(0, 60);
      }
      l.webview.html = transcriptPage(parts, csp, nonce);
    } catch (error) {
      if (l.target.hub) {
        l.webview.html = messagePage('The team hub could not show this session', errorMessage(error), csp, nonce);
        return;
      }
      l.webview.html = messagePage(
        'This log is not indexed (yet)',
        `${errorMessage(error)} — Session Lens indexes the workspace and the agents' log folders; use "Open raw log" from the editor title to see the file.`,
        csp,
        nonce,
      );
    }
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
    this.live.clear();
  }
}

/** Opens the raw log as text beside the transcript, with the event's line selected. */
export async function revealRawLine(uri: vscode.Uri | undefined, line: number): Promise<void> {
  if (!uri) {
    void vscode.window.showInformationMessage('Session Lens: the log file of this session no longer exists.');
    return;
  }
  try {
    const document = await vscode.workspace.openTextDocument(uri);
    const index = Math.min(Math.max(line - 1, 0), Math.max(document.lineCount - 1, 0));
    const range = document.lineAt(index).range;
    const editor = await vscode.window.showTextDocument(document, {
      viewColumn: vscode.ViewColumn.Beside,
      selection: new vscode.Selection(range.start, range.end),
      preview: true,
    });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenter);
  } catch (error) {
    void vscode.window.showErrorMessage(`Session Lens: cannot open the raw log: ${errorMessage(error)}`);
  }
}

/** Opens a log as its transcript (the custom editor), from the raw file or anywhere. */
export async function openTranscript(uri: vscode.Uri): Promise<void> {
  await vscode.commands.executeCommand('vscode.openWith', uri, isAgentLogPath(uri.path) ? TRANSCRIPT_VIEW : TRANSCRIPT_ANY_VIEW);
}

/** Opens a log as raw text (the reverse of `openTranscript`). */
export async function openRawLog(uri: vscode.Uri): Promise<void> {
  await vscode.commands.executeCommand('vscode.openWith', uri, 'default');
}

export { isAgentLogPath };
