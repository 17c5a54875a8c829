/** Where the interpreter that runs the language server came from. */
export type PythonSource = 'setting' | 'python-extension' | 'default';

export interface PythonCommand {
  /** The interpreter (a path or a command on PATH). */
  command: string;
  source: PythonSource;
}

export interface PythonInputs {
  /** The `sessionlens.server.python` setting (may be empty or whitespace). */
  setting?: string | null;
  /** The Python extension's active interpreter, when that extension is installed and has one. */
  pythonExtension?: string | null;
  /** The first workspace folder's path, used for `${workspaceFolder}` in the setting. */
  workspaceFolder?: string | null;
  /** The user's home directory, used for a leading `~` in the setting. */
  home?: string | null;
}

export const DEFAULT_PYTHON = 'python3';

/** Expands a leading `~` and `${workspaceFolder}` / `${userHome}` in a path setting. */
export function expandPath(value: string, workspaceFolder?: string | null, home?: string | null): string {
  let out = value.trim();
  if (home) {
    if (out === '~') {
      out = home;
    } else if (out.startsWith('~/')) {
      out = home.replace(/\/+$/, '') + out.slice(1);
    }
    out = out.split('${userHome}').join(home);
  }
  if (workspaceFolder) {
    out = out.split('${workspaceFolder}').join(workspaceFolder);
  }
  return out;
}

/**
 * Picks the interpreter for the server: the setting, else the Python extension's active
 * environment, else `python3`.
 */
export function resolvePythonCommand(inputs: PythonInputs): PythonCommand {
  const setting = (inputs.setting ?? '').trim();
  if (setting) {
    return { command: expandPath(setting, inputs.workspaceFolder, inputs.home), source: 'setting' };
  }
  const fromExtension = (inputs.pythonExtension ?? '').trim();
  if (fromExtension) {
    return { command: fromExtension, source: 'python-extension' };
  }
  return { command: DEFAULT_PYTHON, source: 'default' };
}

/** The arguments that start the language server. */
export const SERVER_ARGS: readonly string[] = ['-m', 'sessionlens', 'lsp'];

/** The arguments of the pre-flight check that the package is importable. */
export const IMPORT_CHECK_ARGS: readonly string[] = ['-c', 'import sessionlens'];

/** The shell command a user runs to install the server for `python`. */
export function installCommand(python: string): string {
  return `${quoteForShell(python)} -m pip install sessionlens`;
}

/** The error shown when `import sessionlens` fails for `python`. */
export function notInstalledMessage(python: string): string {
  return `sessionlens is not installed for ${python}: run \`${installCommand(python)}\``;
}

function quoteForShell(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
