// The extension's settings, read and validated once, in the family of the VS Code Python
// tools extensions (`<tool>.interpreter`, `<tool>.showNotifications`, ...).

import * as os from 'os';
import { ConfigurationChangeEvent, WorkspaceFolder } from 'vscode';
import { CONFIG_SECTION, ServerSettings, ShowNotifications } from './contract';
import { getConfiguration } from './vscodeapi';

export interface ExtensionSettings {
    /** Executable and leading arguments of the Python that runs the server; empty = discover. */
    interpreter: string[];
    showNotifications: ShowNotifications;
    codeLens: boolean;
}

const NOTIFICATIONS: readonly ShowNotifications[] = ['off', 'onError', 'always'];

export function getExtensionSettings(folder?: WorkspaceFolder): ExtensionSettings {
    const config = getConfiguration(CONFIG_SECTION, folder?.uri);
    const interpreter = config.get<unknown>('interpreter', []);
    const notifications = config.get<unknown>('showNotifications', 'onError');
    return {
        interpreter: Array.isArray(interpreter)
            ? resolveVariables(interpreter.filter((s): s is string => typeof s === 'string' && s !== ''), folder)
            : [],
        // A hand-edited settings.json can hold anything: fall back to the default rather
        // than pass an unknown value to the server.
        showNotifications: NOTIFICATIONS.includes(notifications as ShowNotifications)
            ? (notifications as ShowNotifications)
            : 'onError',
        codeLens: config.get<unknown>('codeLens.enabled', false) === true,
    };
}

/** What the server is told, in the shape of its contract. */
export function serverSettings(settings: ExtensionSettings): ServerSettings {
    return { codeLens: settings.codeLens, showNotifications: settings.showNotifications };
}

/**
 * Does the server show a command's result itself? It follows `showNotifications`
 * ("always": every result, "onError": failures); the extension then stays quiet so
 * the user never reads the same sentence twice.
 */
export function serverNotifies(ok: boolean, settings: ExtensionSettings): boolean {
    return settings.showNotifications === 'always' || (settings.showNotifications === 'onError' && !ok);
}

/** `${workspaceFolder}`, `${userHome}` and `${env:NAME}`, as the Python tools extensions allow. */
export function resolveVariables(values: string[], folder?: WorkspaceFolder): string[] {
    return values.map((value) =>
        value
            .replace(/\$\{workspaceFolder\}/g, folder?.uri.fsPath ?? '${workspaceFolder}')
            .replace(/\$\{userHome\}/g, os.homedir())
            .replace(/\$\{env:([^}]+)\}/g, (_m, name: string) => process.env[name] ?? ''),
    );
}

/** Does this change need a new server process (not merely new settings)? */
export function needsRestart(e: ConfigurationChangeEvent): boolean {
    return e.affectsConfiguration(`${CONFIG_SECTION}.interpreter`);
}

export function affectsServerSettings(e: ConfigurationChangeEvent): boolean {
    return (
        e.affectsConfiguration(`${CONFIG_SECTION}.showNotifications`) ||
        e.affectsConfiguration(`${CONFIG_SECTION}.codeLens`)
    );
}
