// The one place that touches the editor API. Everything else imports from here, so the
// surface the extension depends on is visible at a glance and replaceable in tests.

import {
    commands,
    ConfigurationChangeEvent,
    ConfigurationScope,
    Disposable,
    env,
    Extension,
    extensions,
    InputBoxOptions,
    OutputChannel,
    QuickPickItem,
    QuickPickOptions,
    StatusBarAlignment,
    StatusBarItem,
    TextEditor,
    Uri,
    window,
    workspace,
    WorkspaceConfiguration,
    WorkspaceFolder,
} from 'vscode';

export function createOutputChannel(name: string): OutputChannel {
    return window.createOutputChannel(name);
}

export function getConfiguration(section: string, scope?: ConfigurationScope): WorkspaceConfiguration {
    return workspace.getConfiguration(section, scope);
}

export function onDidChangeConfiguration(listener: (e: ConfigurationChangeEvent) => unknown): Disposable {
    return workspace.onDidChangeConfiguration(listener);
}

export function registerCommand(command: string, callback: (...args: unknown[]) => unknown): Disposable {
    return commands.registerCommand(command, callback);
}

export function executeCommand<T>(command: string, ...rest: unknown[]): Thenable<T> {
    return commands.executeCommand<T>(command, ...rest);
}

export function getWorkspaceFolders(): readonly WorkspaceFolder[] {
    return workspace.workspaceFolders ?? [];
}

export function getWorkspaceFolder(uri: Uri): WorkspaceFolder | undefined {
    return workspace.getWorkspaceFolder(uri);
}

export function activeTextEditor(): TextEditor | undefined {
    return window.activeTextEditor;
}

export function onDidChangeActiveTextEditor(listener: (e: TextEditor | undefined) => unknown): Disposable {
    return window.onDidChangeActiveTextEditor(listener);
}

export function showInputBox(options: InputBoxOptions): Thenable<string | undefined> {
    return window.showInputBox(options);
}

export function showQuickPick<T extends QuickPickItem>(items: T[], options: QuickPickOptions): Thenable<T | undefined> {
    return window.showQuickPick(items, options);
}

export function showInformationMessage(message: string, ...items: string[]): Thenable<string | undefined> {
    return window.showInformationMessage(message, ...items);
}

export function showWarningMessage(message: string, ...items: string[]): Thenable<string | undefined> {
    return window.showWarningMessage(message, ...items);
}

export function showErrorMessage(message: string, ...items: string[]): Thenable<string | undefined> {
    return window.showErrorMessage(message, ...items);
}

export function createStatusBarItem(id: string, priority: number): StatusBarItem {
    return window.createStatusBarItem(id, StatusBarAlignment.Left, priority);
}

export function getExtension<T>(id: string): Extension<T> | undefined {
    return extensions.getExtension<T>(id);
}

export function writeClipboard(text: string): Thenable<void> {
    return env.clipboard.writeText(text);
}
