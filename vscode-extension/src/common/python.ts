// Which Python runs the server, and whether git-poison is installed in it.
// Order: the `gitPoison.interpreter` setting, else the Python extension's active
// interpreter when that extension is installed, else `python3` on PATH.

import { execFile } from 'child_process';
import { Disposable, Event, Uri, WorkspaceFolder } from 'vscode';
import { SERVER_MODULE } from './contract';
import { getExtensionSettings } from './settings';
import { getExtension } from './vscodeapi';

export const PYTHON_EXTENSION_ID = 'ms-python.python';
export const DEFAULT_PYTHON = 'python3';

export type InterpreterSource = 'setting' | 'python-extension' | 'default';

export interface Interpreter {
    /** Executable followed by its leading arguments. */
    command: string[];
    source: InterpreterSource;
}

// The few members of the Python extension's API that we use (its `environments` API).
interface PythonEnvironmentsApi {
    environments: {
        getActiveEnvironmentPath(resource?: Uri): { id: string; path: string };
        resolveEnvironment(
            env: { id: string; path: string } | string,
        ): Promise<{ executable: { uri?: Uri } } | undefined>;
        onDidChangeActiveEnvironmentPath: Event<unknown>;
    };
}

async function pythonExtensionApi(): Promise<PythonEnvironmentsApi | undefined> {
    const ext = getExtension<PythonEnvironmentsApi>(PYTHON_EXTENSION_ID);
    if (ext === undefined) {
        return undefined;
    }
    const api = ext.isActive ? ext.exports : await ext.activate();
    // Older releases of the Python extension have no `environments` API.
    return typeof api.environments.getActiveEnvironmentPath === 'function' ? api : undefined;
}

async function fromPythonExtension(folder?: WorkspaceFolder): Promise<string | undefined> {
    const api = await pythonExtensionApi();
    if (api === undefined) {
        return undefined;
    }
    const envPath = api.environments.getActiveEnvironmentPath(folder?.uri);
    const resolved = await api.environments.resolveEnvironment(envPath);
    return resolved?.executable.uri?.fsPath;
}

export async function resolveInterpreter(folder?: WorkspaceFolder): Promise<Interpreter> {
    const configured = getExtensionSettings(folder).interpreter;
    if (configured.length > 0) {
        return { command: configured, source: 'setting' };
    }
    try {
        const fromExt = await fromPythonExtension(folder);
        if (fromExt !== undefined) {
            return { command: [fromExt], source: 'python-extension' };
        }
    } catch {
        // A broken or still-loading Python extension must not keep git-poison from starting.
    }
    return { command: [DEFAULT_PYTHON], source: 'default' };
}

/** Fires when the user picks another interpreter in the Python extension. */
export async function onDidChangePythonInterpreter(listener: () => unknown): Promise<Disposable | undefined> {
    try {
        const api = await pythonExtensionApi();
        return api?.environments.onDidChangeActiveEnvironmentPath(() => listener());
    } catch {
        return undefined;
    }
}

export type ProbeFailure = 'no-interpreter' | 'not-installed' | 'broken';

export type Probe = { ok: true; version: string } | { ok: false; reason: ProbeFailure; detail: string };

/** Runs `<python> -m git_poison_lsp --version`: is the server importable there? */
export function probeServer(python: Interpreter, cwd?: string): Promise<Probe> {
    const [exe, ...lead] = python.command;
    return new Promise((resolve) => {
        execFile(
            exe,
            [...lead, '-m', SERVER_MODULE, '--version'],
            { cwd, timeout: 30_000, env: process.env },
            (error, stdout, stderr) => {
                if (error === null) {
                    resolve({ ok: true, version: stdout.trim() });
                } else if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
                    resolve({ ok: false, reason: 'no-interpreter', detail: `${exe} was not found` });
                } else if (error.killed) {
                    resolve({ ok: false, reason: 'broken', detail: 'no answer to --version within 30 s' });
                } else {
                    const lastLine = stderr.trim().split('\n').pop() ?? '';
                    // Only a missing module is "not installed"; anything else (an old Python,
                    // a broken install) is shown as it is, not hidden behind pip advice.
                    const missing = new RegExp(`No module named '?${SERVER_MODULE}`).test(stderr);
                    resolve({
                        ok: false,
                        reason: missing ? 'not-installed' : 'broken',
                        detail: lastLine || error.message,
                    });
                }
            },
        );
    });
}

export function installCommand(python: Interpreter): string {
    return [...python.command, '-m', 'pip', 'install', 'git-poison'].map(shellQuote).join(' ');
}

function shellQuote(arg: string): string {
    return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
