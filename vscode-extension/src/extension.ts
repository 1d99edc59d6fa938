// Activation only: create the pieces and wire them together. Launching lives in
// common/server.ts, settings in common/settings.ts, interpreter discovery in
// common/python.ts, the commands in common/commands.ts.

import { ExtensionContext } from 'vscode';
import { Command, registerCommands } from './common/commands';
import { onDidChangePythonInterpreter } from './common/python';
import { PoisonServer, SERVER_NAME } from './common/server';
import { affectsServerSettings, getExtensionSettings, needsRestart } from './common/settings';
import { StatusIndicator } from './common/status';
import { createOutputChannel, onDidChangeConfiguration } from './common/vscodeapi';

let server: PoisonServer | undefined;

export async function activate(context: ExtensionContext): Promise<void> {
    const output = createOutputChannel(SERVER_NAME);
    const status = new StatusIndicator(Command.showPoisoned);
    const notRunning = 'not running (see the "git-poison" output)';
    server = new PoisonServer(output, {
        status: (s) => {
            status.update(s);
        },
        stopped: () => {
            status.stopped(notRunning);
        },
    });
    const current = server;
    const restart = async (): Promise<boolean> => {
        status.stopped('restarting');
        const started = await current.restart();
        if (started) {
            status.ready();
        } else {
            status.stopped(notRunning);
        }
        return started;
    };
    context.subscriptions.push(output, status, current, ...registerCommands(current, status, restart));
    context.subscriptions.push(
        onDidChangeConfiguration((e) => {
            if (needsRestart(e)) {
                void restart();
            } else if (affectsServerSettings(e)) {
                void current.sendSettings();
            }
        }),
    );
    const pythonChanged = await onDidChangePythonInterpreter(() => {
        // Only follow the Python extension when no interpreter is configured for us.
        if (getExtensionSettings().interpreter.length === 0) {
            void restart();
        }
    });
    if (pythonChanged !== undefined) {
        context.subscriptions.push(pythonChanged);
    }

    if (await current.start()) {
        status.ready();
    } else {
        status.stopped(notRunning);
    }
}

export async function deactivate(): Promise<void> {
    await server?.stop();
    server = undefined;
}
