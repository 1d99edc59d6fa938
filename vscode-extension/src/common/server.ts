// Launching, restarting and talking to the git-poison language server
// (`<python> -m git_poison_lsp --stdio`).

import * as os from 'os';
import { Disposable, OutputChannel } from 'vscode';
import {
    DidChangeConfigurationNotification,
    ExecuteCommandRequest,
    LanguageClient,
    LanguageClientOptions,
    RevealOutputChannelOn,
    ServerOptions,
    State,
    TransportKind,
} from 'vscode-languageclient/node';
import { CommandResult, CONFIG_SECTION, PoisonStatus, SERVER_MODULE, STATUS_NOTIFICATION } from './contract';
import { installCommand, Interpreter, probeServer, ProbeFailure, resolveInterpreter } from './python';
import { getExtensionSettings, serverSettings } from './settings';
import { executeCommand, getWorkspaceFolders, showErrorMessage, writeClipboard } from './vscodeapi';

export const SERVER_NAME = 'git-poison';

export class ServerNotRunning extends Error {}

export interface ServerEvents {
    status(status: PoisonStatus): void;
    /** The client gave up on a server that kept crashing, or was stopped. */
    stopped(): void;
}

export class PoisonServer implements Disposable {
    private client: LanguageClient | undefined;
    // Starts and stops run one after the other, however fast the user clicks "Restart".
    private queue: Promise<unknown> = Promise.resolve();

    constructor(
        private readonly output: OutputChannel,
        private readonly events: ServerEvents,
    ) {}

    get isRunning(): boolean {
        return this.client?.isRunning() ?? false;
    }

    /** Starts the server; resolves to false (after telling the user why) when it cannot. */
    start(): Promise<boolean> {
        return this.enqueue(() => this.doStart());
    }

    restart(): Promise<boolean> {
        return this.enqueue(async () => {
            await this.doStop();
            return this.doStart();
        });
    }

    stop(): Promise<void> {
        return this.enqueue(() => this.doStop());
    }

    dispose(): void {
        void this.stop();
    }

    /** Tells a running server about changed settings, in its contract's shape. */
    async sendSettings(): Promise<void> {
        if (this.client?.isRunning() === true) {
            const settings = serverSettings(getExtensionSettings(getWorkspaceFolders().at(0)));
            await this.client.sendNotification(DidChangeConfigurationNotification.type, {
                settings: { [CONFIG_SECTION]: settings },
            });
        }
    }

    /** Runs one of the server's commands and returns its answer. */
    async execute<T extends CommandResult>(command: string, argument: object): Promise<T> {
        await this.queue; // a command run during a (re)start waits for it
        const client = this.client;
        if (client?.isRunning() !== true) {
            throw new ServerNotRunning('the git-poison language server is not running (see the "git-poison" output)');
        }
        const answer: unknown = await client.sendRequest(ExecuteCommandRequest.type, {
            command,
            arguments: [argument],
        });
        if (typeof answer !== 'object' || answer === null || typeof (answer as CommandResult).ok !== 'boolean') {
            throw new Error(`the server answered ${command} with something unexpected: ${JSON.stringify(answer)}`);
        }
        return answer as T;
    }

    private enqueue<T>(work: () => Promise<T>): Promise<T> {
        const next = this.queue.then(work, work);
        this.queue = next.catch(() => undefined);
        return next;
    }

    private async doStart(): Promise<boolean> {
        const folder = getWorkspaceFolders().at(0);
        const cwd = folder?.uri.fsPath ?? os.homedir();
        const python = await resolveInterpreter(folder);
        this.log(`using ${python.command.join(' ')} (from ${python.source})`);
        const probe = await probeServer(python, cwd);
        if (!probe.ok) {
            this.log(`cannot start: ${probe.detail}`);
            // Not awaited: the answer to the message must not hold up a later restart.
            void this.explain(python, probe.reason, probe.detail);
            return false;
        }
        this.log(`git-poison language server ${probe.version}`);
        const client = this.createClient(python, cwd);
        client.onNotification(STATUS_NOTIFICATION, (status: PoisonStatus) => {
            this.events.status(status);
        });
        client.onDidChangeState((e) => {
            if (e.newState === State.Stopped && this.client === client) {
                this.events.stopped();
            }
        });
        this.client = client;
        try {
            await client.start();
        } catch (e) {
            this.log(`the server failed to start: ${String(e)}`);
            void showErrorMessage('git-poison: the language server failed to start. See the "git-poison" output.');
            return false;
        }
        this.log('the language server is running');
        return true;
    }

    private async doStop(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        if (client !== undefined) {
            try {
                await client.stop(5_000);
            } catch (e) {
                this.log(`stopping the server: ${String(e)}`);
            }
            await client.dispose();
        }
    }

    private createClient(python: Interpreter, cwd: string): LanguageClient {
        const [exe, ...lead] = python.command;
        const serverOptions: ServerOptions = {
            command: exe,
            args: [...lead, '-m', SERVER_MODULE],
            transport: TransportKind.stdio, // appends --stdio
            options: { cwd, env: { ...process.env } },
        };
        const clientOptions: LanguageClientOptions = {
            // Any file on disk may sit on a poisoned line; the server decides which matter.
            documentSelector: [{ scheme: 'file' }],
            outputChannel: this.output,
            traceOutputChannel: this.output,
            revealOutputChannelOn: RevealOutputChannelOn.Never,
            initializationOptions: serverSettings(getExtensionSettings(getWorkspaceFolders().at(0))),
            middleware: {
                workspace: {
                    // A server that pulls `gitPoison` gets the contract's shape, not the raw
                    // settings tree (`codeLens.enabled` becomes `codeLens`).
                    configuration: async (params, token, next) => {
                        const answers = await next(params, token);
                        if (!Array.isArray(answers)) {
                            return answers;
                        }
                        return params.items.map((item, i) =>
                            item.section === CONFIG_SECTION
                                ? serverSettings(getExtensionSettings(getWorkspaceFolders().at(0)))
                                : (answers[i] as unknown),
                        );
                    },
                },
            },
        };
        return new LanguageClient(CONFIG_SECTION, SERVER_NAME, serverOptions, clientOptions);
    }

    private async explain(python: Interpreter, reason: ProbeFailure, detail: string): Promise<void> {
        const shown = python.command.join(' ');
        if (reason !== 'not-installed') {
            const choice = await showErrorMessage(
                reason === 'no-interpreter'
                    ? `git-poison: the Python interpreter "${shown}" was not found. ` +
                          'Set "gitPoison.interpreter" or select an interpreter in the Python extension.'
                    : `git-poison could not start with ${shown}: ${detail}. See the "git-poison" output.`,
                'Open settings',
            );
            if (choice === 'Open settings') {
                await executeCommand('workbench.action.openSettings', `${CONFIG_SECTION}.interpreter`);
            }
            return;
        }
        const install = installCommand(python);
        const choice = await showErrorMessage(
            `git-poison is not installed in ${shown}. Install it with: ${install}`,
            'Copy install command',
            'Open settings',
        );
        if (choice === 'Copy install command') {
            await writeClipboard(install);
        } else if (choice === 'Open settings') {
            await executeCommand('workbench.action.openSettings', `${CONFIG_SECTION}.interpreter`);
        }
    }

    private log(line: string): void {
        this.output.appendLine(`[extension] ${line}`);
    }
}
