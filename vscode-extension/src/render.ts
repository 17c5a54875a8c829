import * as vscode from 'vscode';
import { RENDER_SCHEME } from './constants';
import { errorMessage, ServerManager } from './server';

/**
 * Read-only Markdown documents under the `sessionlens-render:` scheme:
 * `/<title>.md?session=<id>` or `?uri=<log uri>` render a session through `sessionlens.renderSession`;
 * `/<title>.md?doc=<n>` show text the extension already has (eval results).
 */
export class RenderProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changeEmitter.event;
  private readonly documents = new Map<string, string>();
  private nextDoc = 1;

  constructor(private readonly server: ServerManager) {}

  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    const params = new URLSearchParams(uri.query);
    const doc = params.get('doc');
    if (doc) {
      return this.documents.get(doc) ?? '_This document is no longer available._\n';
    }
    const argument: { session_id?: string; uri?: string } = {};
    const session = params.get('session');
    const logUri = params.get('uri');
    if (session) {
      argument.session_id = session;
    } else if (logUri) {
      argument.uri = logUri;
    } else {
      return '_Nothing to render._\n';
    }
    try {
      const result = await this.server.executeCommand(
        'sessionlens.renderSession',
        argument,
        token,
      );
      return result?.markdown ?? '';
    } catch (error) {
      return `# Could not render the session\n\n${errorMessage(error)}\n`;
    }
  }

  /** The URI that renders a session, by id or by its log file. */
  sessionUri(target: { sessionId?: string; logUri?: vscode.Uri }, title: string): vscode.Uri {
    const query = new URLSearchParams();
    if (target.sessionId) {
      query.set('session', target.sessionId);
    } else if (target.logUri) {
      query.set('uri', target.logUri.toString());
    }
    return vscode.Uri.from({ scheme: RENDER_SCHEME, path: `/${fileTitle(title)}.md`, query: query.toString() });
  }

  /** Stores `markdown` as a new document and returns its URI. */
  staticUri(markdown: string, title: string): vscode.Uri {
    const id = String(this.nextDoc++);
    this.documents.set(id, markdown);
    return vscode.Uri.from({ scheme: RENDER_SCHEME, path: `/${fileTitle(title)}.md`, query: `doc=${id}` });
  }

  /** A document that fills as a streamed answer arrives; returns its URI and an `append` function. */
  streamUri(title: string, heading: string): { uri: vscode.Uri; append: (delta: string) => void; finish: (text?: string) => void } {
    const id = String(this.nextDoc++);
    const head = `# ${heading}\n\n`;
    let body = '';
    this.documents.set(id, `${head}_Waiting for the answer…_\n`);
    const uri = vscode.Uri.from({ scheme: RENDER_SCHEME, path: `/${fileTitle(title)}.md`, query: `doc=${id}` });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = (): void => {
      timer = undefined;
      this.changeEmitter.fire(uri);
    };
    return {
      uri,
      append: (delta: string) => {
        body += delta;
        this.documents.set(id, head + body);
        timer ??= setTimeout(flush, 100);
      },
      finish: (text?: string) => {
        if (text !== undefined && text.length >= body.length) {
          body = text;
        }
        this.documents.set(id, head + (body || '_No answer._') + '\n');
        if (timer) {
          clearTimeout(timer);
        }
        flush();
      },
    };
  }

  /** Re-renders an open document. */
  refresh(uri: vscode.Uri): void {
    this.changeEmitter.fire(uri);
  }

  dispose(): void {
    this.changeEmitter.dispose();
    this.documents.clear();
  }
}

function fileTitle(title: string): string {
  const cleaned = title.replace(/[\\/:*?"<>|#%\r\n\t]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 80);
  return cleaned || 'Session';
}

/**
 * Opens a rendered document as a Markdown preview, or as text when no preview is available.
 * `markdown.showPreview` is run, not looked up first: the built-in Markdown extension activates on
 * that command, so before the first Markdown file of the window it is not in `getCommands()` yet
 * (an AI-coach answer then opened as Markdown source, `2&gt;&amp;1` and all).
 */
export async function showMarkdown(uri: vscode.Uri, provider: RenderProvider): Promise<void> {
  provider.refresh(uri);
  try {
    const document = await vscode.workspace.openTextDocument(uri);
    try {
      await vscode.commands.executeCommand('markdown.showPreview', document.uri);
      return;
    } catch {
      // no Markdown preview in this editor: show the text
    }
    await vscode.window.showTextDocument(document, { preview: true });
  } catch (error) {
    void vscode.window.showErrorMessage(`Session Lens: ${errorMessage(error)}`);
  }
}
