import * as vscode from 'vscode';
import {
  groupSessionsByProject,
  ProjectGroup,
  SessionInfo,
  sessionDescription,
  sessionLabel,
  sessionTooltip,
} from './lib/format';
import { errorMessage, ServerManager } from './server';

/** A project node of the Sessions tree. */
export class ProjectNode {
  constructor(readonly group: ProjectGroup) {}
}

/** A session node of the Sessions tree (the argument of the Open Raw / Open Rendered menu items). */
export class SessionNode {
  constructor(readonly session: SessionInfo, readonly children: SessionInfo[] = []) {}
}

type Node = ProjectNode | SessionNode;

const SESSION_LIMIT = 2000;

/** The Sessions view: projects, then their sessions, newest first. */
export class SessionsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private groups: ProjectGroup[] | undefined;
  private subagents: SessionInfo[] = [];
  private view: vscode.TreeView<Node> | undefined;
  /** the saved view filtering the tree ("Session Lens: Apply Saved View"), if any */
  savedView: string | undefined;

  constructor(private readonly server: ServerManager) {}

  /** Filters the tree by a saved view (undefined: every session). */
  applyView(name: string | undefined): void {
    this.savedView = name;
    this.refresh();
  }

  attach(view: vscode.TreeView<Node>): void {
    this.view = view;
  }

  /** Drops the cached list and asks the server again. */
  refresh(): void {
    this.groups = undefined;
    this.changeEmitter.fire(undefined);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node instanceof ProjectNode) {
      const item = new vscode.TreeItem(node.group.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `project:${node.group.key}`;
      item.description = `${node.group.sessions.length}`;
      item.tooltip = node.group.key || 'Sessions without a project';
      item.iconPath = new vscode.ThemeIcon(node.group.hub ? 'organization' : 'folder');
      item.contextValue = node.group.hub ? 'project-team' : 'project';
      return item;
    }
    const session = node.session;
    const sub = !!session.parent_session_id;
    const kind = session.agent_id?.startsWith('acompact') ? 'compaction' : 'sub-agent';
    // (a child without an agent id, e.g. a forked Pi session, is named by its kind alone)
    const label = sub ? `${[kind, session.agent_id].filter(Boolean).join(' ')}: ${sessionLabel(session)}` : sessionLabel(session);
    const item = new vscode.TreeItem(
      label,
      node.children.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = session.hub ? `team:${session.hub}:${session.id}` : `session:${session.id}`;
    item.description = (session.hub ? 'team · ' : session.log_missing ? 'log deleted · ' : '') + sessionDescription(session);
    item.tooltip = new vscode.MarkdownString(
      sessionTooltip(session) + (session.log_missing ? '\n\n*The log file no longer exists: the transcript opens from the store.*' : ''),
    );
    item.iconPath = new vscode.ThemeIcon(session.log_missing ? 'history' : sub ? 'symbol-event' : session.agent === 'claude' ? 'sparkle' : 'terminal');
    if (session.hub) {
      item.iconPath = new vscode.ThemeIcon('cloud');
    }
    item.contextValue = session.hub ? 'session-team' : session.log_missing ? 'session-missing' : 'session';
    item.resourceUri = undefined;
    // the default view of a session is its transcript; "Open Raw" is one click away (context menu)
    item.command = { command: 'sessionlens.ui.openTranscript', title: 'Open Transcript', arguments: [node] };
    return item;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node instanceof SessionNode) {
      return node.children.map((session) => new SessionNode(session));
    }
    if (node instanceof ProjectNode) {
      // sub-agent and compaction runs nest under the session that started them
      const ids = new Set(node.group.sessions.map((session) => session.id));
      const children = new Map<string, SessionInfo[]>();
      for (const session of this.subagents) {
        const parent = session.parent_session_id ?? '';
        children.set(parent, [...(children.get(parent) ?? []), session]);
      }
      return node.group.sessions
        .filter((session) => !session.parent_session_id || !ids.has(session.parent_session_id))
        .map((session) => new SessionNode(session, children.get(session.id) ?? []));
    }
    if (!this.groups) {
      this.groups = await this.load();
    }
    return this.groups.map((group) => new ProjectNode(group));
  }

  private async load(): Promise<ProjectGroup[]> {
    if (this.view) {
      this.view.message = undefined;
    }
    try {
      const result = await this.server.executeCommand('sessionlens.sessions', {
        limit: SESSION_LIMIT,
        ...(this.savedView ? { view: this.savedView } : {}),
      });
      const all = result?.sessions ?? [];
      if (this.view) {
        // the applied view, a cut list and what a team hub said (unreachable, key refused) above the tree
        const notes = [
          this.savedView ? `View "${this.savedView}" (${all.length} session${all.length === 1 ? '' : 's'}).` : undefined,
          all.length >= SESSION_LIMIT ? `Showing the newest ${SESSION_LIMIT} sessions.` : undefined,
          ...(result?.warnings ?? []).map((warning) => `⚠ ${warning}`),
        ].filter(Boolean);
        this.view.message = notes.length ? notes.join(' ') : undefined;
        this.view.description = this.savedView ? `view: ${this.savedView}` : undefined;
      }
      const ids = new Set(all.map((session) => session.id));
      this.subagents = all.filter((session) => session.parent_session_id && ids.has(session.parent_session_id));
      return groupSessionsByProject(all.filter((session) => !(session.parent_session_id && ids.has(session.parent_session_id))));
    } catch (error) {
      if (this.view) {
        this.view.message = `Session Lens: ${errorMessage(error)}`;
      }
      return [];
    }
  }

  dispose(): void {
    this.changeEmitter.dispose();
  }
}
