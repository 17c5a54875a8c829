import { execFile } from 'node:child_process';
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  Trace,
} from 'vscode-languageclient/node';
import { API_KEY_SECRET, CONFIG_SECTION, HUB_KEY_SECRET, HUBS_STATE, INSTALL_URL, OUTPUT_NAME, STATUS_NOTIFICATION, STREAM_NOTIFICATION } from './constants';
import { documentSelector } from './lib/documents';
import { StatusInfo } from './lib/format';
import type { CommandName, Commands } from './protocol.generated';
import {
  expandPath,
  IMPORT_CHECK_ARGS,
  notInstalledMessage,
  PythonCommand,
  resolvePythonCommand,
  SERVER_ARGS,
} from './lib/python';
import { pythonExtensionInterpreter } from './pythonExtension';

export type ServerState = 'stopped' | 'starting' | 'running' | 'failed';

const IMPORT_CHECK_TIMEOUT_MS = 30_000;

/** The `sessionlens.*` settings, handed to the server as `initializationOptions`. */
export function settingsObject(workspaceFolder: string | undefined): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration(CONFIG_SECTION);
  const home = os.homedir();
  const path = (value: string): string => (value ? expandPath(value, workspaceFolder, home) : value);
  return {
    server: { python: path(config.get<string>('server.python', '')) },
    store: { path: path(config.get<string>('store.path', '')) },
    logRoots: config.get<string[]>('logRoots', []).map(path),
    includeHomeLogs: config.get<boolean>('includeHomeLogs', true),
    homeLogsScope: config.get<string>('homeLogsScope', 'workspace'),
    coach: { enabled: config.get<boolean>('coach.enabled', true) },
    llm: llmSettings(config),
  };
}

/** The `llm` section under the server's field names; empty strings mean "the server's default". */
function llmSettings(config: vscode.WorkspaceConfiguration): Record<string, unknown> {
  const llm: Record<string, unknown> = {
    timeout_s: config.get<number>('llm.timeoutSeconds', 60),
    max_tokens: config.get<number>('llm.maxTokens', 1024),
  };
  const model = config.get<string>('llm.model', '').trim();
  if (model) {
    llm.model = model;
  }
  const baseUrl = config.get<string>('llm.baseUrl', '').trim();
  if (baseUrl) {
    llm.base_url = baseUrl;
  }
  return llm;
}

function firstWorkspaceFolder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.[0];
}

/** Runs `<python> -c "import sessionlens"`; resolves to an error text, or undefined when it works. */
function checkImport(python: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(python, [...IMPORT_CHECK_ARGS], { env, timeout: IMPORT_CHECK_TIMEOUT_MS }, (error, _stdout, stderr) => {
      if (!error) {
        resolve(undefined);
        return;
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES') {
        resolve(`Python interpreter not found: ${python}. Set "sessionlens.server.python" to a Python 3.11+ interpreter.`);
        return;
      }
      const detail = String(stderr || error.message).trim().split('\n').slice(-1)[0];
      resolve(`${notInstalledMessage(python)}${detail ? ` (${detail})` : ''}`);
    });
  });
}

/**
 * Owns the language client: resolves the interpreter, checks the package is importable, starts,
 * restarts and stops the server, and forwards its `sessionlens/status` notifications.
 */
/** One `sessionlens/stream` notification: a Markdown delta of a streamed answer. */
export interface StreamChunk {
  id: string;
  delta: string;
  done: boolean;
  error?: string | null;
}

export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient | undefined> | undefined;
  private stateValue: ServerState = 'stopped';
  private lastError: string | undefined;
  private generation = 0;
  private readonly statusEmitter = new vscode.EventEmitter<StatusInfo>();
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  private readonly disposables: vscode.Disposable[] = [this.statusEmitter, this.stateEmitter];
  private streamDisposed = false;

  /** Fires on every `sessionlens/status` notification and after the initial `sessionlens.status`. */
  readonly onStatus = this.statusEmitter.event;
  private readonly streamEmitter = new vscode.EventEmitter<StreamChunk>();
  /** Chunks of streamed Markdown (AI coach answers), from the server's `sessionlens/stream` notifications. */
  readonly onStream = this.streamEmitter.event;
  /** Set by the extension: wraps server commands run from code actions (e.g. show the AI coach's answer). */
  commandInterceptor?: (command: string, args: unknown[], next: (command: string, args: unknown[]) => Promise<unknown>) => Promise<unknown>;
  /** Fires when the server starts, stops or fails. */
  readonly onState = this.stateEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  get state(): ServerState {
    return this.stateValue;
  }

  /** Why the last start failed, if it did. */
  get error(): string | undefined {
    return this.lastError;
  }

  private setState(state: ServerState): void {
    this.stateValue = state;
    this.stateEmitter.fire(state);
  }

  /** Starts the server unless it is running or starting. */
  start(): Promise<LanguageClient | undefined> {
    if (this.client?.isRunning()) {
      return Promise.resolve(this.client);
    }
    if (!this.starting) {
      const generation = ++this.generation;
      this.starting = this.doStart(generation).finally(() => {
        if (generation === this.generation) {
          this.starting = undefined;
        }
      });
    }
    return this.starting;
  }

  /** Stops the server and starts it again with the current settings. */
  async restart(): Promise<LanguageClient | undefined> {
    this.output.info('Restarting the Session Lens server');
    await this.stop();
    return this.start();
  }

  async stop(): Promise<void> {
    this.generation++;
    this.starting = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(5_000);
      } catch (error) {
        this.output.warn(`Stopping the server failed: ${String(error)}`);
      }
      try {
        await client.dispose(1_000);
      } catch {
        // already stopped
      }
    }
    this.setState('stopped');
  }

  private async resolvePython(): Promise<PythonCommand> {
    const folder = firstWorkspaceFolder();
    const setting = vscode.workspace.getConfiguration(CONFIG_SECTION, folder?.uri).get<string>('server.python', '');
    const fromExtension = setting.trim() ? undefined : await pythonExtensionInterpreter(folder?.uri, this.output);
    return resolvePythonCommand({
      setting,
      pythonExtension: fromExtension,
      workspaceFolder: folder?.uri.fsPath,
      home: os.homedir(),
    });
  }

  private serverEnv(settings: Record<string, unknown>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' };
    const storePath = (settings.store as { path?: string }).path;
    if (storePath) {
      env.SESSIONLENS_HOME = storePath;
    }
    return env;
  }

  private async doStart(generation: number): Promise<LanguageClient | undefined> {
    this.setState('starting');
    this.lastError = undefined;
    const python = await this.resolvePython();
    const folder = firstWorkspaceFolder();
    const settings = settingsObject(folder?.uri.fsPath);
    const env = this.serverEnv(settings);
    this.output.info(`Using Python ${python.command} (from ${python.source})`);

    const importError = await checkImport(python.command, env);
    if (generation !== this.generation) {
      return undefined;
    }
    if (importError) {
      this.fail(importError);
      return undefined;
    }

    // No `transport`: stdio without the `--stdio` flag the client would append otherwise.
    const serverOptions: ServerOptions = {
      command: python.command,
      args: [...SERVER_ARGS],
      options: { env, cwd: folder?.uri.fsPath },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: documentSelector(),
      outputChannel: this.output,
      initializationOptions: settings,
      // hovers may run one command: agent blame's link to the transcript (the server builds it, never from log content)
      markdown: { isTrusted: { enabledCommands: ['sessionlens.ui.openLink'] }, supportHtml: false },
      middleware: {
        executeCommand: (command, args, next) =>
          this.commandInterceptor ? this.commandInterceptor(command, args, (c, a) => Promise.resolve(next(c, a))) : next(command, args),
      },
    };
    const client = new LanguageClient(CONFIG_SECTION, OUTPUT_NAME, serverOptions, clientOptions);
    // Tell the server this client renders `sessionlens/stream` notifications (streamed AI answers);
    // other editors get each answer as a document (window/showDocument) instead.
    client.registerFeature({
      fillClientCapabilities(capabilities) {
        capabilities.experimental = { ...(capabilities.experimental ?? {}), sessionlens: { stream: true } };
      },
      initialize() {},
      getState() {
        return { kind: 'static' };
      },
      clear() {},
    });
    client.onNotification(STATUS_NOTIFICATION, (status: StatusInfo) => this.statusEmitter.fire(status));
    client.onNotification(STREAM_NOTIFICATION, (chunk: StreamChunk) => {
      if (!this.streamDisposed) {
        this.streamEmitter.fire(chunk);
      }
    });
    client.onDidChangeState((event) => {
      if (this.client !== client) {
        return;
      }
      if (event.newState === State.Running) {
        this.setState('running');
      } else if (event.newState === State.Stopped && this.stateValue === 'running') {
        this.setState('stopped');
      }
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      if (generation !== this.generation) {
        return undefined;
      }
      this.client = undefined;
      this.fail(`The Session Lens server failed to start: ${errorMessage(error)}`);
      return undefined;
    }
    if (generation !== this.generation) {
      return undefined;
    }
    await this.sendApiKey();
    await this.sendHubs();
    this.setState('running');
    void this.refreshStatus();
    return client;
  }

  private fail(message: string): void {
    this.lastError = message;
    this.output.error(message);
    this.setState('failed');
    const installAction = 'Open install instructions';
    const settingsAction = 'Open Settings';
    const outputAction = 'Show Output';
    void vscode.window.showErrorMessage(message, installAction, settingsAction, outputAction).then((choice) => {
      if (choice === installAction) {
        void vscode.env.openExternal(vscode.Uri.parse(INSTALL_URL));
      } else if (choice === settingsAction) {
        void vscode.commands.executeCommand('workbench.action.openSettings', `${CONFIG_SECTION}.server.python`);
      } else if (choice === outputAction) {
        this.output.show();
      }
    });
  }

  /** Asks the server for its status and forwards it to {@link onStatus}. */
  async refreshStatus(): Promise<void> {
    try {
      const status = await this.executeCommand('sessionlens.status', {});
      this.statusEmitter.fire(status);
    } catch (error) {
      this.output.warn(`sessionlens.status failed: ${errorMessage(error)}`);
    }
  }

  /**
   * Hands the stored Anthropic API key (or its absence) to the running server. Tracing is
   * suspended for that one request so the key never reaches the output channel.
   */
  async sendApiKey(): Promise<void> {
    if (!this.client?.isRunning()) {
      return;
    }
    const key = (await this.context.secrets.get(API_KEY_SECRET)) ?? null;
    try {
      await this.executeSecret('sessionlens.setApiKey', { key });
    } catch (error) {
      this.output.warn(`Could not hand the API key to the server: ${errorMessage(error)}`);
    }
  }

  /** Runs a command whose argument holds a secret: tracing is off for that one request. */
  async executeSecret<K extends CommandName>(command: K, argument: Commands[K]['params']): Promise<Commands[K]['result']> {
    const client = await this.ready();
    const trace = Trace.fromString(vscode.workspace.getConfiguration(CONFIG_SECTION).get<string>('trace.server', 'off'));
    if (trace !== Trace.Off) {
      await client.setTrace(Trace.Off);
    }
    const pending = client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [argument] });
    if (trace !== Trace.Off) {
      await client.setTrace(trace);
    }
    return (await pending) as Commands[K]['result'];
  }

  /** Hands every stored team hub (URL from the global state, key from secret storage) to the server. */
  async sendHubs(): Promise<void> {
    for (const hub of storedHubs(this.context)) {
      const key = await this.context.secrets.get(HUB_KEY_SECRET + hub.url);
      if (!key) {
        continue;
      }
      try {
        await this.executeSecret('sessionlens.addHub', { url: hub.url, key, name: hub.name, check: false });
      } catch (error) {
        this.output.warn(`Team hub ${hub.url}: ${errorMessage(error)}`);
      }
    }
  }

  /**
   * The running client (waiting for a start in progress). Throws when the server failed or
   * stopped: only a setting change or **Restart Server** starts it again, so a failing
   * interpreter is not retried on every request.
   */
  async ready(): Promise<LanguageClient> {
    const client = this.client?.isRunning() ? this.client : await this.starting;
    if (!client?.isRunning()) {
      throw new Error(
        this.lastError ?? 'The Session Lens server is not running. Run "Session Lens: Restart Server".',
      );
    }
    return client;
  }

  /** Runs one of the server's `sessionlens.*` commands with one argument object. */
  async executeCommand<K extends CommandName>(
    command: K,
    argument: Commands[K]['params'],
    token?: vscode.CancellationToken,
  ): Promise<Commands[K]['result']> {
    const client = await this.ready();
    return (await client.sendRequest(
      ExecuteCommandRequest.type,
      { command, arguments: [argument] },
      token,
    )) as Commands[K]['result'];
  }

  dispose(): void {
    void this.stop();
    this.streamDisposed = true;
    this.streamEmitter.dispose();
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
  }
}

/** A team hub as the extension remembers it (its key is in secret storage). */
export interface StoredHub {
  url: string;
  name?: string;
}

/** The team hubs added with "Session Lens: Add Team Hub…". */
export function storedHubs(context: vscode.ExtensionContext): StoredHub[] {
  const raw = context.globalState.get<unknown>(HUBS_STATE, []);
  return Array.isArray(raw) ? raw.filter((h): h is StoredHub => !!h && typeof h.url === 'string') : [];
}

/** The message of an error from the client or the server. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  if (typeof error === 'object' && error && 'message' in error) {
    return String((error as { message: unknown }).message);
  }
  return String(error);
}
