// The shapes the git-poison language server sends and accepts (its documented contract).
// Types only: every answer here is computed by the server, never in TypeScript.

export const SERVER_MODULE = 'git_poison_lsp';
export const CONFIG_SECTION = 'gitPoison';

/** Commands the server executes (`workspace/executeCommand`). */
export const ServerCommand = {
    cherryPickCure: 'gitPoison.cherryPickCure',
    sync: 'gitPoison.sync',
    checkBranch: 'gitPoison.checkBranch',
    poisonLine: 'gitPoison.poisonLine',
    recordCure: 'gitPoison.recordCure',
    listRecords: 'gitPoison.listRecords',
} as const;

export type ShowNotifications = 'off' | 'onError' | 'always';

/** initializationOptions and the `gitPoison` section of `workspace/didChangeConfiguration`. */
export interface ServerSettings {
    codeLens: boolean;
    showNotifications: ShowNotifications;
}

/** Every command answers at least this. */
export interface CommandResult {
    ok: boolean;
    message: string;
}

/** A line of a quick pick, worded by the server: shown as it comes. */
export interface PickItem {
    label: string;
    description: string;
    detail: string;
}

/** A cure missing here: `recordId` and `cure` are what `cherryPickCure` takes. */
export interface CureItem extends PickItem {
    recordId: string;
    cure: string;
}

/** A poisoned finding of HEAD, with its missing cures and what to say when there is none. */
export interface FindingItem extends PickItem {
    recordId: string;
    cures: CureItem[];
    noCure: string;
}

/** A record to pick (which poison does a cure fix?). */
export interface RecordItem extends PickItem {
    recordId: string;
}

/** `git poison check --json`: the extension reads only the verdict. */
export interface CheckReport {
    verdict: 'healthy' | 'poisoned' | 'undecided';
}

export interface CheckBranchResult extends CommandResult {
    report?: CheckReport;
    findings?: FindingItem[];
    noCures?: string;
}

export interface ListRecordsResult extends CommandResult {
    items?: RecordItem[];
}

export interface PoisonLineResult extends CommandResult {
    id?: string;
    poison?: string;
}

/** The `gitPoison/status` notification. */
export const STATUS_NOTIFICATION = 'gitPoison/status';

export interface PoisonStatus {
    root: string;
    branch: string | null;
    head: string | null;
    uncured: number;
    undecided: number;
    /** Worded by the server: shown as they come, behind an icon the counts choose. */
    label: string;
    tooltip: string;
}
