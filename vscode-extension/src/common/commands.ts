// The commands a user runs from the palette, the editor's context menu and the status bar.
// Each asks what it needs, calls one server command, and shows the answer: nothing here
// decides anything about poisons.

import { Disposable, QuickPickItem, Uri } from 'vscode';
import {
    CheckBranchResult,
    CommandResult,
    CureItem,
    FindingItem,
    ListRecordsResult,
    PoisonLineResult,
    ServerCommand,
} from './contract';
import { PoisonServer } from './server';
import { getExtensionSettings, serverNotifies } from './settings';
import { rootPath, StatusIndicator } from './status';
import {
    activeTextEditor,
    getWorkspaceFolders,
    registerCommand,
    showErrorMessage,
    showInformationMessage,
    showInputBox,
    showQuickPick,
    showWarningMessage,
} from './vscodeapi';

/** The extension's own command ids (the server's `gitPoison.*` ids are taken by the client). */
export const Command = {
    poisonLine: 'gitPoison.poisonCommitOfLine',
    recordCure: 'gitPoison.recordCureFor',
    checkBranch: 'gitPoison.checkThisBranch',
    sync: 'gitPoison.syncRecords',
    cherryPick: 'gitPoison.cherryPickMissingCure',
    restart: 'gitPoison.restart',
    showPoisoned: 'gitPoison.showPoisoned',
} as const;

export class UserError extends Error {}

export function registerCommands(
    server: PoisonServer,
    status: StatusIndicator,
    restart: () => Promise<boolean>,
): Disposable[] {
    const ui = new CommandHandlers(server, status);
    const table: [string, (arg?: unknown) => Promise<unknown>][] = [
        [Command.poisonLine, (arg) => ui.poisonLine(arg)],
        [Command.recordCure, (arg) => ui.recordCure(arg)],
        [Command.checkBranch, (arg) => ui.checkBranch(arg)],
        [Command.sync, (arg) => ui.sync(arg)],
        [Command.cherryPick, (arg) => ui.cherryPick(arg)],
        [Command.restart, restart],
        [Command.showPoisoned, () => ui.showPoisoned()],
    ];
    return table.map(([id, handler]) => registerCommand(id, (arg?: unknown) => guarded(() => handler(arg))));
}

/** Every failure ends as one message to the user, never as an unhandled rejection. */
async function guarded<T>(work: () => Promise<T>): Promise<T | undefined> {
    try {
        return await work();
    } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        void showErrorMessage(`git-poison: ${message}`);
        return undefined;
    }
}

interface Picked<T> extends QuickPickItem {
    item: T;
}

/** The server's labels as they come; a codicon in front is all the extension adds. */
function pick<T extends { label: string; description: string; detail: string }>(item: T, icon = ''): Picked<T> {
    return { label: icon + item.label, description: item.description, detail: item.detail, item };
}

class CommandHandlers {
    constructor(
        private readonly server: PoisonServer,
        private readonly status: StatusIndicator,
    ) {}

    async poisonLine(arg?: unknown): Promise<PoisonLineResult | undefined> {
        const editor = activeTextEditor();
        if (editor === undefined || editor.document.uri.scheme !== 'file') {
            throw new UserError('open the file whose line introduced the bug, and put the cursor on that line');
        }
        const uri = uriArgument(arg) ?? editor.document.uri;
        const line = editor.selection.active.line;
        const comment = await showInputBox({
            title: `Poison the commit that last changed line ${line + 1}`,
            prompt: 'What goes wrong (the comment everyone will read)',
            placeHolder: 'service hangs on io error',
            ignoreFocusOut: true,
            validateInput: (value) => (value.trim() === '' ? 'Say what goes wrong.' : undefined),
        });
        if (comment === undefined) {
            return undefined;
        }
        const bug = await showInputBox({
            title: 'Bug tracker reference (optional)',
            prompt: 'e.g. JIRA-1234; leave empty for none',
            ignoreFocusOut: true,
        });
        if (bug === undefined) {
            return undefined;
        }
        const argument: Record<string, unknown> = { uri: uri.toString(), line, comment: comment.trim() };
        if (bug.trim() !== '') {
            argument.bug = bug.trim();
        }
        return this.report(await this.server.execute<PoisonLineResult>(ServerCommand.poisonLine, argument));
    }

    async recordCure(arg?: unknown): Promise<CommandResult | undefined> {
        const uri = targetUri(arg);
        const listed = await this.server.execute<ListRecordsResult>(ServerCommand.listRecords, { uri: uri.toString() });
        if (!listed.ok) {
            return this.report(listed);
        }
        const records = listed.items ?? [];
        if (records.length === 0) {
            void showInformationMessage('git-poison: there are no poison records to cure yet.');
            return listed;
        }
        const picked = await showQuickPick(
            records.map((r) => pick(r)),
            { title: 'Record a cure: which poison does it fix?', matchOnDescription: true, matchOnDetail: true },
        );
        if (picked === undefined) {
            return undefined;
        }
        const revs = await showInputBox({
            title: `Record a cure for ${picked.item.recordId}`,
            prompt: 'The fixing commit(s), one per branch the fix landed on, separated by spaces',
            value: 'HEAD',
            ignoreFocusOut: true,
            validateInput: (value) => (value.trim() === '' ? 'Name at least one commit.' : undefined),
        });
        if (revs === undefined) {
            return undefined;
        }
        return this.report(
            await this.server.execute(ServerCommand.recordCure, {
                uri: uri.toString(),
                recordId: picked.item.recordId,
                revs: revs.trim().split(/\s+/),
            }),
        );
    }

    async checkBranch(arg?: unknown): Promise<CheckBranchResult> {
        const uri = targetUri(arg);
        const result = await this.check(uri);
        if (!result.ok || result.report === undefined) {
            return this.report(result);
        }
        if (result.report.verdict === 'poisoned') {
            await this.pickFinding(uri, result.findings ?? [], result.message);
        } else {
            this.say(result, result.report.verdict === 'undecided' ? 'warning' : 'information');
        }
        return result;
    }

    async sync(arg?: unknown): Promise<CommandResult> {
        return this.report(await this.server.execute(ServerCommand.sync, { uri: targetUri(arg).toString() }));
    }

    /** With `{uri, recordId, cure}` runs that cherry-pick; otherwise offers the cures missing here. */
    async cherryPick(arg?: unknown): Promise<CommandResult | undefined> {
        if (isCherryPickArgument(arg)) {
            return this.report(await this.server.execute(ServerCommand.cherryPickCure, arg));
        }
        const uri = targetUri(arg);
        const result = await this.check(uri);
        if (!result.ok || result.report === undefined) {
            return this.report(result);
        }
        const items = (result.findings ?? []).flatMap((finding) => finding.cures.map((cure) => pick(cure, '$(git-commit) ')));
        if (items.length === 0) {
            void showInformationMessage(`git-poison: ${result.noCures ?? result.message}`);
            return result;
        }
        const picked = await showQuickPick(items, { title: 'Cherry-pick which missing cure?', matchOnDetail: true });
        return picked === undefined ? undefined : this.cherryPickCure(uri, picked.item);
    }

    /** The status-bar click: the poisoned findings of the repository it counts. */
    async showPoisoned(): Promise<CheckBranchResult | undefined> {
        const current = this.status.current();
        const uri = current === undefined ? targetUri(undefined) : Uri.file(rootPath(current.root));
        const result = await this.check(uri);
        if (!result.ok || result.report === undefined) {
            return this.report(result);
        }
        const findings = result.findings ?? [];
        if (findings.length === 0) {
            this.say(result, 'information');
            return result;
        }
        await this.pickFinding(uri, findings, result.message);
        return result;
    }

    private async check(uri: Uri): Promise<CheckBranchResult> {
        return this.server.execute<CheckBranchResult>(ServerCommand.checkBranch, { uri: uri.toString() });
    }

    private async pickFinding(uri: Uri, findings: FindingItem[], title: string): Promise<void> {
        const picked = await showQuickPick(
            findings.map((finding) => pick(finding, '$(bug) ')),
            { title, matchOnDescription: true, matchOnDetail: true },
        );
        if (picked === undefined) {
            return;
        }
        const cures = picked.item.cures;
        if (cures.length === 0) {
            void showInformationMessage(`git-poison: ${picked.item.noCure}`);
            return;
        }
        const cure =
            cures.length === 1
                ? pick(cures[0])
                : await showQuickPick(
                      cures.map((c) => pick(c, '$(git-commit) ')),
                      { title: `Cherry-pick which cure of ${picked.item.recordId}?` },
                  );
        if (cure !== undefined) {
            await this.cherryPickCure(uri, cure.item);
        }
    }

    private async cherryPickCure(uri: Uri, cure: CureItem): Promise<CommandResult> {
        // The server asks the user to confirm before it touches the working tree.
        return this.report(
            await this.server.execute(ServerCommand.cherryPickCure, {
                uri: uri.toString(),
                recordId: cure.recordId,
                cure: cure.cure,
            }),
        );
    }

    private report<T extends CommandResult>(result: T): T {
        this.say(result, result.ok ? 'information' : 'error');
        return result;
    }

    /** Shows a result's message unless the server already showed it. */
    private say(result: CommandResult, severity: 'information' | 'warning' | 'error'): void {
        if (serverNotifies(result.ok, getExtensionSettings(getWorkspaceFolders().at(0)))) {
            return;
        }
        const show = { information: showInformationMessage, warning: showWarningMessage, error: showErrorMessage }[severity];
        void show(`git-poison: ${result.message}`);
    }
}

/** Commands run from an editor's context menu get that editor's URI. */
function uriArgument(arg: unknown): Uri | undefined {
    if (arg instanceof Uri) {
        return arg;
    }
    if (typeof arg === 'object' && arg !== null && typeof (arg as { uri?: unknown }).uri === 'string') {
        return Uri.parse((arg as { uri: string }).uri);
    }
    return undefined;
}

/** The file or folder a command is about: its argument, the active editor, the first folder. */
function targetUri(arg: unknown): Uri {
    const uri = uriArgument(arg) ?? activeTextEditor()?.document.uri ?? getWorkspaceFolders().at(0)?.uri;
    if (uri === undefined) {
        throw new UserError('open a file or folder inside a git repository first');
    }
    return uri;
}

function isCherryPickArgument(arg: unknown): arg is { uri: string; recordId: string; cure: string } {
    if (typeof arg !== 'object' || arg === null) {
        return false;
    }
    const a = arg as Record<string, unknown>;
    return typeof a.uri === 'string' && typeof a.recordId === 'string' && typeof a.cure === 'string';
}
