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

export interface CureElsewhere {
    commit: string;
    refs: string[];
    cherry_pick: string;
}

export interface Finding {
    id: string;
    comment: string;
    bug: string | null;
    poisons: string[];
    cures_elsewhere: CureElsewhere[];
}

/** `git poison check --json`. */
export interface CheckReport {
    target: string;
    rev: string;
    verdict: 'healthy' | 'poisoned' | 'undecided';
    poisoned: Finding[];
    undecided: Finding[];
    cured: Finding[];
    problems: unknown[];
    stale: string | null;
}

export interface RecordSummary {
    id: string;
    comment: string;
    bug?: string | null;
    poisons?: string[];
    cures?: string[];
}

export interface CheckBranchResult extends CommandResult {
    report?: CheckReport;
}

export interface ListRecordsResult extends CommandResult {
    // A list, or the `git poison list --json` object that holds one.
    records?: RecordSummary[] | { records: RecordSummary[] };
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
}
