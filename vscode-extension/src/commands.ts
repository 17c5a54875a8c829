import * as vscode from 'vscode';
import { API_KEY_SECRET, EXTENSION_ID, HUB_KEY_SECRET, HUBS_STATE } from './constants';
import { showCostReport } from './costReportPanel';
import { debounce } from './lib/debounce';
import {
  SearchHit,
  searchHitText,
  SessionInfo,
  sessionDescription,
  sessionLabel,
} from './lib/format';
import { deepLinkFromHandlerUri, formatOpenUri } from './lib/links';
import { COST_GROUPINGS, CommandName, CostGrouping } from './protocol.generated';
import { RenderProvider, showMarkdown } from './render';
import { errorMessage, ServerManager, storedHubs } from './server';
import { SessionNode, SessionsTreeProvider } from './sessionsTree';
import { openRawLog, openTranscript, TranscriptManager } from './transcript';

const SEARCH_DEBOUNCE_MS = 150;
const SEARCH_LIMIT = 50;
const COST_GROUP_KEY = 'sessionlens.costReport.by';

/** Opens `uri` with the cursor on the 1-based `line`, centred. */
export async function openAtLine(uri: vscode.Uri, line: number | undefined): Promise<void> {
  const document = await vscode.workspace.openTextDocument(uri);
  const index = Math.min(Math.max((line ?? 1) - 1, 0), Math.max(document.lineCount - 1, 0));
  const range = new vscode.Range(index, 0, index, 0);
  const editor = await vscode.window.showTextDocument(document, { selection: range, preview: false });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenter);
}

function toUri(uri: string | undefined | null, path: string | undefined | null): vscode.Uri {
  if (uri) {
    return vscode.Uri.parse(uri, true);
  }
  if (path) {
    return vscode.Uri.file(path);
  }
  throw new Error('The server returned no location.');
}

/** The file of the active custom editor tab (a transcript), if any. */
function activeCustomEditorUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputCustom ? input.uri : undefined;
}

function isLogFile(uri: vscode.Uri | undefined): uri is vscode.Uri {
  return !!uri && uri.scheme === 'file' && uri.path.endsWith('.jsonl');
}

interface HitItem extends vscode.QuickPickItem {
  hit?: SearchHit;
}

interface SessionItem extends vscode.QuickPickItem {
  session: SessionInfo;
}

const renderButton: vscode.QuickInputButton = {
  iconPath: new vscode.ThemeIcon('book'),
  tooltip: 'Read the session (transcript)',
};

/** Registers every command of the extension. */
export function registerCommands(
  context: vscode.ExtensionContext,
  server: ServerManager,
  render: RenderProvider,
  tree: SessionsTreeProvider,
  transcripts: TranscriptManager,
): void {
  const register = (id: string, handler: (...args: never[]) => unknown): void => {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: never[]) => {
        try {
          return await handler(...args);
        } catch (error) {
          void vscode.window.showErrorMessage(`Session Lens: ${errorMessage(error)}`);
          return undefined;
        }
      }),
    );
  };

  // Streamed AI coach answers: the server sends `sessionlens/stream` chunks tagged with our stream id.
  const streams = new Map<string, { append: (d: string) => void }>();
  context.subscriptions.push(
    server.onStream((chunk) => {
      const s = streams.get(chunk.id);
      if (s && chunk.delta) {
        s.append(chunk.delta);
      }
      if (chunk.done) {
        streams.delete(chunk.id);
      }
    }),
  );
  const streamed = async (command: CommandName, argument: Record<string, unknown>, title: string, heading: string,
    run?: (args: unknown[]) => Promise<unknown>): Promise<unknown> => {
    const streamId = `vscode-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const doc = render.streamUri(title, heading);
    streams.set(streamId, doc);
    await showMarkdown(doc.uri, render);
    const args = [{ ...argument, stream_id: streamId }];
    try {
      const result = (run ? await run(args) : await server.executeCommand(command, args[0] as never)) as { markdown?: string } | undefined;
      doc.finish(result?.markdown);
      return result;
    } catch (error) {
      doc.finish(`> **Failed:** ${errorMessage(error)}\n`);
      throw error;
    } finally {
      streams.delete(streamId);
    }
  };
  server.commandInterceptor = async (command, args, next) => {
    if (command === 'sessionlens.explainFinding') {
      const argument = (args[0] ?? {}) as Record<string, unknown>;
      return streamed(command, argument, 'AI coach', 'AI coach: explanation', (a) => next(command, a));
    }
    return next(command, args);
  };

  register('sessionlens.ui.coachSession', async (target?: vscode.Uri) => {
    const uri = isLogFile(target) ? target : vscode.window.activeTextEditor?.document.uri;
    if (!isLogFile(uri)) {
      void vscode.window.showInformationMessage('Session Lens: open a session log (.jsonl) to coach it.');
      return;
    }
    await streamed('sessionlens.coachSession', { uri: uri.toString() }, 'Coach this session', 'Coach this session');
  });

  register('sessionlens.ui.askCoach', async (target?: vscode.Uri) => {
    const uri = isLogFile(target) ? target : vscode.window.activeTextEditor?.document.uri;
    if (!isLogFile(uri)) {
      void vscode.window.showInformationMessage('Session Lens: open a session log (.jsonl) to ask about it.');
      return;
    }
    const question = await vscode.window.showInputBox({
      title: 'Ask the coach about this session',
      prompt: 'Follow-up questions keep the conversation.',
      ignoreFocusOut: true,
    });
    if (!question?.trim()) {
      return;
    }
    await streamed('sessionlens.askCoach', { uri: uri.toString(), question }, 'Ask the coach', `Q: ${question.replace(/[#*_`<>[\]]/g, ' ')}`);
  });

  const openRendered = async (target: { sessionId?: string; logUri?: vscode.Uri }, title: string): Promise<void> => {
    await showMarkdown(render.sessionUri(target, title), render);
  };

  const pickSession = async (placeholder: string): Promise<SessionInfo | undefined> => {
    const quickPick = vscode.window.createQuickPick<SessionItem>();
    quickPick.placeholder = placeholder;
    quickPick.matchOnDescription = true;
    quickPick.matchOnDetail = true;
    quickPick.busy = true;
    quickPick.show();
    try {
      const result = await server.executeCommand('sessionlens.sessions', { limit: 1000 });
      quickPick.items = (result?.sessions ?? []).map((session) => ({
        label: sessionLabel(session),
        description: sessionDescription(session),
        detail: [session.project_name ?? session.project, session.turns ? `${session.turns} turns` : undefined]
          .filter(Boolean)
          .join(' · '),
        buttons: [renderButton],
        session,
      }));
      if (!quickPick.items.length) {
        quickPick.placeholder = 'No sessions indexed yet (run "Session Lens: Reindex")';
      }
    } catch (error) {
      quickPick.hide();
      throw error;
    } finally {
      quickPick.busy = false;
    }
    return new Promise((resolve) => {
      let done = false;
      const finish = (session: SessionInfo | undefined): void => {
        if (!done) {
          done = true;
          resolve(session);
          quickPick.hide();
        }
      };
      quickPick.onDidAccept(() => finish(quickPick.selectedItems[0]?.session));
      quickPick.onDidTriggerItemButton((event) => {
        const session = event.item.session;
        void transcripts.showSession(session.id, sessionLabel(session), undefined, undefined, session.hub);
        finish(undefined);
      });
      quickPick.onDidHide(() => {
        finish(undefined);
        quickPick.dispose();
      });
    });
  };

  register('sessionlens.ui.searchSessions', (initial?: string) => {
    const quickPick = vscode.window.createQuickPick<HitItem>();
    quickPick.placeholder = 'Search session logs: words, "a phrase", field:value';
    quickPick.title = 'Session Lens: Search Sessions';
    const selected = vscode.window.activeTextEditor?.document.getText(vscode.window.activeTextEditor.selection);
    quickPick.value = typeof initial === 'string' ? initial : selected && !selected.includes('\n') ? selected : '';
    let generation = 0;
    let cancel: vscode.CancellationTokenSource | undefined;
    const search = debounce(async (query: string) => {
      const mine = ++generation;
      cancel?.cancel();
      cancel = new vscode.CancellationTokenSource();
      if (!query.trim()) {
        quickPick.items = [];
        quickPick.busy = false;
        return;
      }
      quickPick.busy = true;
      try {
        const result = await server.executeCommand(
          'sessionlens.search',
          { query, limit: SEARCH_LIMIT },
          cancel.token,
        );
        if (mine !== generation) {
          return;
        }
        const hits = result?.hits ?? [];
        // a team hub that could not answer is said below the hits (local hits are still there)
        const warnings: HitItem[] = (result?.warnings ?? []).map((warning) => ({ label: `$(warning) ${warning}`, alwaysShow: true }));
        quickPick.items = [
          ...(hits.length
            ? hits.map((hit) => ({ ...searchHitText(hit), alwaysShow: true, buttons: [renderButton], hit }))
            : [{ label: '$(info) No matches', alwaysShow: true }]),
          ...warnings,
        ];
        const total = result?.total ?? hits.length;
        quickPick.title = `Session Lens: ${total} ${total === 1 ? 'match' : 'matches'}`;
      } catch (error) {
        if (mine === generation) {
          quickPick.items = [{ label: `$(error) ${errorMessage(error)}`, alwaysShow: true }];
        }
      } finally {
        if (mine === generation) {
          quickPick.busy = false;
        }
      }
    }, SEARCH_DEBOUNCE_MS);
    quickPick.onDidChangeValue((value) => search(value));
    quickPick.onDidAccept(() => {
      const hit = quickPick.selectedItems[0]?.hit;
      if (!hit) {
        return;
      }
      quickPick.hide();
      if (hit.hub) {
        // a team session has no local file: its transcript, fetched from the hub
        void transcripts.showSession(hit.session_id, hit.title ?? hit.session_id, undefined, hit.line, hit.hub);
        return;
      }
      void openAtLine(toUri(hit.uri, hit.path), hit.line).catch((error) =>
        vscode.window.showErrorMessage(`Session Lens: ${errorMessage(error)}`),
      );
    });
    quickPick.onDidTriggerItemButton((event) => {
      const hit = event.item.hit;
      if (hit) {
        quickPick.hide();
        void transcripts.showSession(hit.session_id, hit.title ?? hit.session_id, undefined, hit.line, hit.hub);
      }
    });
    quickPick.onDidHide(() => {
      search.cancel();
      cancel?.cancel();
      quickPick.dispose();
    });
    quickPick.show();
    if (quickPick.value) {
      search(quickPick.value);
    }
  });

  register('sessionlens.ui.openSession', async () => {
    const session = await pickSession('Open a session (newest first)');
    if (!session) {
      return;
    }
    if (session.hub) {
      return transcripts.showSession(session.id, sessionLabel(session), undefined, undefined, session.hub);
    }
    // a session inside a database or a storage tree (path "<container>#<id>"), or whose log is gone,
    // has no text file to open: its transcript comes from the store
    if (session.log_missing || !session.path || !/\.(jsonl?|txt)$/.test(session.path)) {
      return transcripts.showSession(session.id, sessionLabel(session));
    }
    await openAtLine(toUri(session.uri, session.path), 1);
  });

  register('sessionlens.ui.showRendered', async (arg?: SessionNode | vscode.Uri | string) => {
    if (arg instanceof SessionNode) {
      return openRendered({ sessionId: arg.session.id }, sessionLabel(arg.session));
    }
    if (typeof arg === 'string') {
      return openRendered({ sessionId: arg }, arg);
    }
    const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
    if (isLogFile(uri)) {
      const name = uri.path.split('/').pop() ?? 'Session';
      return openRendered({ logUri: uri }, name.replace(/\.jsonl$/, ''));
    }
    const session = await pickSession('Pick a session to render');
    if (session) {
      await openRendered({ sessionId: session.id }, sessionLabel(session));
    }
  });

  register('sessionlens.ui.openTranscript', async (arg?: SessionNode | vscode.Uri | string) => {
    if (arg instanceof SessionNode) {
      const s = arg.session;
      if (s.hub) {
        return transcripts.showSession(s.id, sessionLabel(s), undefined, undefined, s.hub);
      }
      // a JSONL log opens in its transcript editor; anything else (a deleted log, a session inside a
      // database or a JSON document) opens as a transcript panel from the store
      if (s.log_missing || !s.path || !s.path.endsWith('.jsonl')) {
        return transcripts.showSession(s.id, sessionLabel(s));
      }
      return openTranscript(toUri(s.uri, s.path));
    }
    if (typeof arg === 'string') {
      return transcripts.showSession(arg, arg);
    }
    const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
    if (uri && uri.path.endsWith('.jsonl')) {
      return openTranscript(uri);
    }
    const session = await pickSession('Pick a session to read');
    if (session?.hub) {
      await transcripts.showSession(session.id, sessionLabel(session), undefined, undefined, session.hub);
    } else if (session) {
      await (session.log_missing || !session.path?.endsWith('.jsonl')
        ? transcripts.showSession(session.id, sessionLabel(session))
        : openTranscript(toUri(session.uri, session.path)));
    }
  });

  register('sessionlens.ui.openRawLog', async (arg?: vscode.Uri) => {
    const uri = arg instanceof vscode.Uri ? arg : activeCustomEditorUri();
    if (uri) {
      await openRawLog(uri);
    }
  });

  register('sessionlens.ui.openRaw', async (node?: SessionNode) => {
    if (node instanceof SessionNode) {
      await openAtLine(toUri(node.session.uri, node.session.path), 1);
    }
  });

  register('sessionlens.ui.openRendered', async (node?: SessionNode) => {
    if (node instanceof SessionNode) {
      await openRendered({ sessionId: node.session.id }, sessionLabel(node.session));
    }
  });

  register('sessionlens.ui.refreshSessions', () => tree.refresh());

  register('sessionlens.ui.reindex', async () => {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Session Lens: reindexing…' },
      () => server.executeCommand(
        'sessionlens.reindex',
        {},
      ),
    );
    tree.refresh();
    void server.refreshStatus();
    void vscode.window.showInformationMessage(
      `Session Lens: indexed ${result?.sessions ?? 0} sessions (${result?.events ?? 0} events) from ${result?.files ?? 0} files` +
        (result?.problems ? `, ${result.problems} problems` : '') +
        '.',
    );
  });

  register('sessionlens.ui.runEvals', async (arg?: vscode.Uri) => {
    let file: string | undefined;
    const active = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
    if (active?.scheme === 'file' && active.path.endsWith('.eval.json')) {
      file = active.fsPath;
    } else {
      const found = await vscode.workspace.findFiles('**/*.eval.json', '**/node_modules/**', 200);
      if (!found.length) {
        void vscode.window.showInformationMessage('Session Lens: no *.eval.json suite in this workspace.');
        return;
      }
      const all = { label: '$(checklist) All suites', description: `${found.length} files`, file: undefined };
      const picked = await vscode.window.showQuickPick(
        [
          ...found
            .sort((a, b) => a.fsPath.localeCompare(b.fsPath))
            .map((uri) => ({ label: vscode.workspace.asRelativePath(uri), description: '', file: uri.fsPath as string | undefined })),
          ...(found.length > 1 ? [all] : []),
        ],
        { placeHolder: 'Run which eval suite?' },
      );
      if (!picked) {
        return;
      }
      file = picked.file;
    }
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Session Lens: running evals…' },
      () => server.executeCommand('sessionlens.runEvals', file ? { file } : {}),
    );
    await showMarkdown(render.staticUri(result?.markdown ?? '_No results._\n', 'Eval results'), render);
  });

  register('sessionlens.ui.showCostReport', async (arg?: object) => {
    if (arg && typeof arg === 'object' && !(arg instanceof vscode.Uri)) {
      return showCostReport(server, arg); // e.g. {by: 'model', since: '7d'} from a keybinding
    }
    const stored = context.workspaceState.get<string>(COST_GROUP_KEY, 'day');
    const last: CostGrouping = (COST_GROUPINGS as readonly string[]).includes(stored) ? (stored as CostGrouping) : 'day';
    const groups: CostGrouping[] = [last, ...COST_GROUPINGS.filter((group) => group !== last)];
    const picked = await vscode.window.showQuickPick(
      groups.map((group) => ({ label: group, description: group === last ? 'last used' : undefined })),
      { placeHolder: 'Group costs by' },
    );
    if (!picked) {
      return undefined;
    }
    await context.workspaceState.update(COST_GROUP_KEY, picked.label);
    return showCostReport(server, { by: picked.label as CostGrouping });
  });

  register('sessionlens.ui.setApiKey', async () => {
    const key = await vscode.window.showInputBox({
      title: 'Session Lens: Anthropic API key',
      prompt: 'Stored in VS Code secret storage and handed to the Session Lens server only.',
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => (value.trim() ? undefined : 'Enter a key, or press Escape to cancel.'),
    });
    if (key === undefined) {
      return;
    }
    await context.secrets.store(API_KEY_SECRET, key.trim());
    void vscode.window.showInformationMessage('Session Lens: API key saved.');
  });

  register('sessionlens.ui.clearApiKey', async () => {
    await context.secrets.delete(API_KEY_SECRET);
    void vscode.window.showInformationMessage('Session Lens: API key cleared.');
  });

  register('sessionlens.ui.copyDeepLink', async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor || !isLogFile(editor.document.uri)) {
      void vscode.window.showInformationMessage('Session Lens: put the cursor on a line of a session log first.');
      return;
    }
    const { link } = await server.executeCommand('sessionlens.deepLink', {
      uri: editor.document.uri.toString(),
      line: editor.selection.active.line,
    });
    await vscode.env.clipboard.writeText(link);
    const copyEditorLink = 'Copy VS Code Link';
    const choice = await vscode.window.showInformationMessage(`Copied ${link}`, copyEditorLink);
    if (choice === copyEditorLink) {
      await vscode.env.clipboard.writeText(formatOpenUri(vscode.env.uriScheme, EXTENSION_ID, link));
    }
  });

  // Agent blame: a hover's link opens the transcript at the edit; the lens lists the file's sessions.
  register('sessionlens.ui.openLink', async (link?: string) => {
    if (typeof link !== 'string' || !link.startsWith('sessionlens://')) {
      throw new Error('not a session link');
    }
    const target = await server.executeCommand('sessionlens.resolveLink', { link });
    await transcripts.showSession(target.session_id, target.session_id, toUri(target.uri, target.path), target.line);
  });

  register('sessionlens.ui.blameSessions', async (uri?: string) => {
    const target = typeof uri === 'string' ? uri : vscode.window.activeTextEditor?.document.uri.toString();
    if (!target) {
      return;
    }
    const line = vscode.window.activeTextEditor?.selection.active.line;
    const res = await server.executeCommand('sessionlens.blame', { uri: target, line: line ?? null });
    const items = res.sessions.map((s) => ({
      label: `${s.agent_label} · ${(s.last ?? '').slice(0, 10)}`,
      description: `${s.lines} line(s) · ${s.edits} edit(s)`,
      detail: s.title ?? s.session_id,
      session: s,
    }));
    const pick = await vscode.window.showQuickPick(items, { title: `Agent sessions that edited ${res.rel}`, matchOnDetail: true });
    if (pick) {
      await transcripts.showSession(pick.session.session_id, pick.session.title ?? pick.session.session_id);
    }
  });

  register('sessionlens.ui.restartServer', () => server.restart());

  register('sessionlens.ui.addTeamHub', async () => {
    const url = await vscode.window.showInputBox({
      title: 'Session Lens: Add Team Hub (1/2)',
      prompt: 'The URL of the team hub (sessionlens serve --team)',
      placeHolder: 'https://sessions.example.com',
      ignoreFocusOut: true,
      validateInput: (value) => (/^https?:\/\/\S+$/i.test(value.trim()) ? undefined : 'A URL starting with http:// or https://'),
    });
    if (!url) {
      return;
    }
    const key = await vscode.window.showInputBox({
      title: 'Session Lens: Add Team Hub (2/2)',
      prompt: 'An API key of the hub with the read scope (create one on the hub\'s Keys page). Kept in VS Code secret storage.',
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => (value.trim() ? undefined : 'Enter the key, or press Escape to cancel.'),
    });
    if (!key) {
      return;
    }
    const { hub } = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Session Lens: asking the team hub…' },
      () => server.executeSecret('sessionlens.addHub', { url: url.trim(), key: key.trim(), check: true }),
    );
    await context.secrets.store(HUB_KEY_SECRET + hub.id, key.trim());
    await context.globalState.update(HUBS_STATE, [...storedHubs(context).filter((h) => h.url !== hub.id), { url: hub.id, name: hub.name }]);
    tree.refresh();
    if (hub.status === 'ok') {
      void vscode.window.showInformationMessage(
        `Session Lens: team hub ${hub.name} added: ${hub.sessions ?? 0} session${hub.sessions === 1 ? '' : 's'} you may read.` +
          (hub.message ? ` Note: ${hub.message}.` : ''),
      );
    } else {
      void vscode.window.showWarningMessage(`Session Lens: team hub ${hub.name} added, but ${hub.message}`);
    }
  });

  register('sessionlens.ui.removeTeamHub', async () => {
    const hubs = storedHubs(context);
    if (!hubs.length) {
      void vscode.window.showInformationMessage('Session Lens: no team hub added (Session Lens: Add Team Hub…).');
      return;
    }
    const picked = await vscode.window.showQuickPick(
      hubs.map((h) => ({ label: h.name ?? h.url, description: h.url, url: h.url })),
      { placeHolder: 'Remove which team hub?' },
    );
    if (!picked) {
      return;
    }
    await context.secrets.delete(HUB_KEY_SECRET + picked.url);
    await context.globalState.update(HUBS_STATE, hubs.filter((h) => h.url !== picked.url));
    await server.executeCommand('sessionlens.removeHub', { hub: picked.url }).catch(() => undefined);
    tree.refresh();
    void vscode.window.showInformationMessage(`Session Lens: team hub ${picked.label} removed (its key is deleted).`);
  });

  register('sessionlens.ui.applySavedView', async () => {
    const { views } = await server.executeCommand('sessionlens.savedViews', {});
    const all = { label: '$(list-flat) All sessions', description: 'no view', name: undefined as string | undefined };
    if (!views.length) {
      void vscode.window.showInformationMessage(
        'Session Lens: no saved views yet: save one in the web UI (sessionlens serve) or with `sessionlens views --save NAME …`.',
      );
      return;
    }
    const picked = await vscode.window.showQuickPick(
      [
        ...views.map((v) => ({ label: v.name, description: v.description, name: v.name as string | undefined })),
        all,
      ],
      { placeHolder: tree.savedView ? `Showing view "${tree.savedView}": apply which saved view?` : 'Apply which saved view to the Sessions view?' },
    );
    if (picked) {
      tree.applyView(picked.name);
    }
  });

  context.subscriptions.push(
    vscode.window.registerUriHandler({
      handleUri: async (uri: vscode.Uri) => {
        const link = deepLinkFromHandlerUri(uri.path, uri.query);
        if (!link) {
          void vscode.window.showErrorMessage(`Session Lens: not a session link: ${uri.toString(true)}`);
          return;
        }
        try {
          const target = await server.executeCommand(
            'sessionlens.resolveLink',
            { link },
          );
          // `line` is the event's 1-based line in the log (1 when the link names no event), as openAtLine takes it
          await openAtLine(toUri(target.uri, target.path), target.line);
        } catch (error) {
          void vscode.window.showErrorMessage(`Session Lens: cannot open ${link}: ${errorMessage(error)}`);
        }
      },
    }),
  );
}
