// What every extension test needs: the `vscode` stand-in in place of the editor, the
// bundled extension as shipped (dist/extension.js), and real git repositories with real
// poison records made by the real `git poison` CLI.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import Module from 'module';
import * as os from 'os';
import * as path from 'path';

const STANDIN = path.join(__dirname, 'standin', 'vscode.js');

// `require('vscode')` anywhere (the bundle, vscode-languageclient, our modules) gets the stand-in.
type Resolver = (request: string, ...rest: unknown[]) => string;
const moduleWithResolver = Module as unknown as { _resolveFilename: Resolver };
const originalResolve = moduleWithResolver._resolveFilename;
moduleWithResolver._resolveFilename = function (request: string, ...rest: unknown[]): string {
    return request === 'vscode' ? STANDIN : originalResolve.call(this, request, ...rest);
};

// eslint-disable-next-line @typescript-eslint/no-require-imports
import vscode = require('./standin/vscode');
export { vscode };
export const standin = vscode.standin;

export const EXTENSION_ROOT = path.resolve(__dirname, '..', '..');

/** The Python that has git-poison (and its language server) installed. */
export function python(): string {
    const fromEnv = process.env.GIT_POISON_PYTHON;
    if (fromEnv) {
        return fromEnv;
    }
    const venv = path.resolve(EXTENSION_ROOT, '..', '.venv', 'bin', 'python');
    if (fs.existsSync(venv)) {
        return venv;
    }
    throw new Error('set GIT_POISON_PYTHON to a Python with git-poison installed (scripts/test.sh does)');
}

/** A HOME of its own, so neither git nor the server reads the developer's configuration. */
export function isolateHome(): string {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gp-vscode-home-'));
    const gitconfig = path.join(home, '.gitconfig');
    fs.writeFileSync(
        gitconfig,
        '[user]\n\tname = Test Author\n\temail = author@example.com\n[init]\n\tdefaultBranch = master\n' +
            '[advice]\n\tdetachedHead = false\n',
    );
    Object.assign(process.env, {
        HOME: home,
        XDG_CONFIG_HOME: path.join(home, '.config'),
        XDG_CACHE_HOME: path.join(home, '.cache'),
        GIT_CONFIG_GLOBAL: gitconfig,
        GIT_CONFIG_NOSYSTEM: '1',
    });
    for (const name of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'NO_COLOR', 'GIT_POISON_NO_FETCH']) {
        // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
        delete process.env[name];
    }
    return home;
}

export function git(cwd: string, ...args: string[]): string {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** `git poison ARGS` exactly as a user runs it, through the project's Python. */
export function gitPoison(cwd: string, ...args: string[]): string {
    return execFileSync(python(), ['-m', 'poison_tools', ...args], {
        cwd,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
}

/** A source repository whose history a test builds commit by commit. */
export class Repo {
    constructor(readonly root: string) {
        fs.mkdirSync(root, { recursive: true });
        git(root, 'init', '-q', '-b', 'master');
    }
    write(name: string, text: string): string {
        const file = path.join(this.root, name);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, text);
        return file;
    }
    commit(message: string, files: Record<string, string>): string {
        for (const [name, text] of Object.entries(files)) {
            this.write(name, text);
            git(this.root, 'add', '--', name);
        }
        git(this.root, 'commit', '-q', '-m', message);
        return git(this.root, 'rev-parse', 'HEAD');
    }
    poison(rev: string, comment: string, ...extra: string[]): string {
        return gitPoison(this.root, 'add', rev, '-m', comment, ...extra);
    }
    file(name: string): string {
        return path.join(this.root, name);
    }
}

export function tempDir(prefix: string): string {
    return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

interface ExtensionModule {
    activate(context: { subscriptions: { dispose(): unknown }[] }): Promise<void>;
    deactivate(): Promise<void>;
}

/** The extension as packaged: the esbuild bundle that the .vsix ships. */
export function loadBundle(): ExtensionModule {
    const bundle = path.join(EXTENSION_ROOT, 'dist', 'extension.js');
    if (!fs.existsSync(bundle)) {
        throw new Error(`${bundle} is missing: run \`npm run compile\` first`);
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(bundle) as ExtensionModule;
}

export interface Activated {
    context: { subscriptions: { dispose(): unknown }[] };
    close(): Promise<void>;
}

/** Activates the bundled extension in a workspace, as VS Code does on opening the folder. */
export async function activate(
    folders: string[],
    settings: Record<string, unknown> = {},
    options: { prepare?: () => void; expectStartFailure?: boolean } = {},
): Promise<Activated> {
    standin.reset();
    options.prepare?.();
    standin.setWorkspaceFolders(folders);
    for (const [key, value] of Object.entries(settings)) {
        standin.settings.set(key, value);
    }
    const extension = loadBundle();
    const context = { subscriptions: [] as { dispose(): unknown }[] };
    await extension.activate(context);
    const status = standin.statusBarItems.find((i) => i.id === 'gitPoison.status');
    if (options.expectStartFailure !== true && status?.text.includes('circle-slash') === true) {
        throw new Error(
            `the language server did not start: ${JSON.stringify(standin.messages)}\n${serverLog().slice(-3000)}`,
        );
    }
    return {
        context,
        async close() {
            await extension.deactivate();
            for (const d of context.subscriptions.splice(0)) {
                await d.dispose();
            }
        },
    };
}

/** Waits until `probe` returns a value (not undefined/false), or fails with `what`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = probe();
        if (value !== undefined && value !== false) {
            return value;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}

export function statusItem(): vscode.StatusBarItem {
    const item = standin.statusBarItems.find((i) => i.id === 'gitPoison.status');
    if (item === undefined) {
        throw new Error('the extension created no git-poison status-bar item');
    }
    return item;
}

export function serverLog(): string {
    return standin.outputChannels.map((c) => c.text).join('');
}
