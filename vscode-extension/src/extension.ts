import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { API_KEY_SECRET, CONFIG_SECTION, OUTPUT_NAME, RENDER_SCHEME } from './constants';
import { debounce } from './lib/debounce';
import { isIndexing } from './lib/format';
import { onPythonInterpreterChange } from './pythonExtension';
import { RenderProvider } from './render';
import { ServerManager } from './server';
import { SessionsTreeProvider } from './sessionsTree';
import { StatusBar } from './statusBar';
import { TranscriptManager } from './transcript';

const RESTART_DEBOUNCE_MS = 750;
const TREE_REFRESH_DEBOUNCE_MS = 300;

let server: ServerManager | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel(OUTPUT_NAME, { log: true });
  context.subscriptions.push(output);

  server = new ServerManager(context, output);
  const manager = server;
  const render = new RenderProvider(manager);
  const tree = new SessionsTreeProvider(manager);
  const view = vscode.window.createTreeView('sessionlens.sessions', { treeDataProvider: tree, showCollapseAll: true });
  tree.attach(view);
  const statusBar = new StatusBar(manager);
  const transcripts = new TranscriptManager(manager);
  context.subscriptions.push(
    transcripts,
    transcripts.register(),
    manager,
    render,
    tree,
    view,
    statusBar,
    vscode.workspace.registerTextDocumentContentProvider(RENDER_SCHEME, render),
  );

  const refreshTree = debounce(() => tree.refresh(), TREE_REFRESH_DEBOUNCE_MS);
  let wasIndexing = false;
  context.subscriptions.push(
    { dispose: () => refreshTree.cancel() },
    manager.onState((state) => {
      statusBar.showState(state);
      if (state === 'running' || state === 'failed') {
        refreshTree();
      }
    }),
    manager.onStatus((status) => {
      statusBar.showStatus(status);
      const indexing = isIndexing(status);
      if (!indexing && (wasIndexing || status.state === 'idle')) {
        refreshTree();
      }
      wasIndexing = indexing;
    }),
  );

  registerCommands(context, manager, render, tree, transcripts);

  // Restart when a setting the server reads at start changes (trace is applied by the client itself).
  const restart = debounce(() => void manager.restart(), RESTART_DEBOUNCE_MS);
  context.subscriptions.push(
    { dispose: () => restart.cancel() },
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(CONFIG_SECTION) && !event.affectsConfiguration(`${CONFIG_SECTION}.trace`)) {
        restart();
      }
    }),
    context.secrets.onDidChange((event) => {
      if (event.key === API_KEY_SECRET) {
        void manager.sendApiKey();
      }
    }),
  );
  void onPythonInterpreterChange(() => {
    if (!vscode.workspace.getConfiguration(CONFIG_SECTION).get<string>('server.python', '').trim()) {
      restart();
    }
  }).then((disposable) => disposable && context.subscriptions.push(disposable));

  void manager.start();
}

export async function deactivate(): Promise<void> {
  await server?.stop();
  server = undefined;
}
