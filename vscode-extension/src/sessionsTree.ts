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
  constructor(readonly session: SessionInfo) {}
}

type Node = ProjectNode | SessionNode;

const SESSION_LIMIT = 2000;

/** The Sessions view: projects, then their sessions, newest first. */
export class SessionsTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private groups: ProjectGroup[] | undefined;
  private view: vscode.TreeView<Node> | undefined;

  constructor(private readonly server: ServerManager) {}

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
      item.iconPath = new vscode.ThemeIcon('folder');
      item.contextValue = 'project';
      return item;
    }
    const session = node.session;
    const item = new vscode.TreeItem(sessionLabel(session), vscode.TreeItemCollapsibleState.None);
    item.id = `session:${session.id}`;
    item.description = sessionDescription(session);
    item.tooltip = new vscode.MarkdownString(sessionTooltip(session));
    item.iconPath = new vscode.ThemeIcon(session.agent === 'claude' ? 'sparkle' : 'terminal');
    item.contextValue = 'session';
    item.resourceUri = undefined;
    item.command = { command: 'sessionlens.ui.openRaw', title: 'Open Raw', arguments: [node] };
    return item;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node instanceof SessionNode) {
      return [];
    }
    if (node instanceof ProjectNode) {
      return node.group.sessions.map((session) => new SessionNode(session));
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
      });
      const sessions = result?.sessions ?? [];
      if (this.view) {
        this.view.message = sessions.length >= SESSION_LIMIT ? `Showing the newest ${SESSION_LIMIT} sessions.` : undefined;
      }
      return groupSessionsByProject(sessions);
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
