// The status-bar item: the number of uncured poisons on the current branch, as the
// server last reported it (`gitPoison/status`) for the repository of the active editor.

import * as path from 'path';
import { Disposable, StatusBarItem, ThemeColor, Uri } from 'vscode';
import { PoisonStatus } from './contract';
import { activeTextEditor, createStatusBarItem, onDidChangeActiveTextEditor } from './vscodeapi';

export class StatusIndicator implements Disposable {
    readonly item: StatusBarItem;
    private readonly statuses = new Map<string, PoisonStatus>();
    private lastRoot: string | undefined;
    private readonly listener: Disposable;

    constructor(command: string) {
        this.item = createStatusBarItem('gitPoison.status', 100);
        this.item.name = 'git-poison';
        this.item.command = command;
        this.item.text = '$(loading~spin) git-poison';
        this.item.tooltip = 'git-poison: starting';
        this.item.show();
        this.listener = onDidChangeActiveTextEditor(() => {
            this.render();
        });
    }

    update(status: PoisonStatus): void {
        const root = rootPath(status.root);
        this.statuses.set(root, status);
        this.lastRoot = root;
        this.render();
    }

    /** Running, but no repository has been reported yet (no file open). */
    ready(): void {
        if (this.current() === undefined) {
            this.item.text = '$(git-commit) git-poison';
            this.item.tooltip = 'git-poison: running. Click to check the branch of the first folder.';
            this.item.backgroundColor = undefined;
        }
    }

    stopped(reason: string): void {
        this.statuses.clear();
        this.item.text = '$(circle-slash) git-poison';
        this.item.tooltip = `git-poison: ${reason}`;
        this.item.backgroundColor = undefined;
    }

    /** The status of the repository holding the active editor, else the last reported. */
    current(): PoisonStatus | undefined {
        const file = activeTextEditor()?.document.uri.fsPath;
        if (file !== undefined) {
            // The deepest root that holds the file: a submodule before its superproject.
            const roots = [...this.statuses.keys()].filter((r) => isInside(file, r));
            roots.sort((a, b) => b.length - a.length);
            if (roots.length > 0) {
                return this.statuses.get(roots[0]);
            }
        }
        return this.lastRoot === undefined ? undefined : this.statuses.get(this.lastRoot);
    }

    private render(): void {
        const status = this.current();
        if (status === undefined) {
            return;
        }
        const icon = status.uncured > 0 ? '$(bug)' : status.undecided > 0 ? '$(question)' : '$(check)';
        this.item.text = `${icon} ${status.label}`;
        this.item.tooltip = status.tooltip;
        this.item.backgroundColor =
            status.uncured > 0 || status.undecided > 0 ? new ThemeColor('statusBarItem.warningBackground') : undefined;
    }

    dispose(): void {
        this.listener.dispose();
        this.item.dispose();
    }
}

/** The server may name a root by path or by file URI. */
export function rootPath(root: string): string {
    return root.startsWith('file:') ? Uri.parse(root).fsPath : root;
}

function isInside(file: string, root: string): boolean {
    const rel = path.relative(root, file);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
