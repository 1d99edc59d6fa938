/* A small stand-in for the `vscode` module, for tests that run outside VS Code.
 *
 * It implements the parts of the editor API that vscode-languageclient and this extension
 * use, with real behaviour where a test looks (commands, diagnostics, input boxes, quick
 * picks, messages, the status bar, settings, documents) and inert registrations elsewhere.
 * It holds no git-poison logic: every answer the tests check comes from the real server.
 */

import * as fs from 'fs';
import * as nodePath from 'path';
import { fileURLToPath, pathToFileURL } from 'url';

export const version = '1.82.0';

// ---------------------------------------------------------------- basic types

export class Disposable {
    constructor(private readonly callOnDispose: () => unknown = () => undefined) {}
    static from(...items: { dispose(): unknown }[]): Disposable {
        return new Disposable(() => {
            for (const item of items) {
                item.dispose();
            }
        });
    }
    dispose(): void {
        this.callOnDispose();
    }
}

export type Listener<T> = (e: T) => unknown;
export type Event<T> = (listener: Listener<T>, thisArgs?: unknown, disposables?: Disposable[]) => Disposable;

export class EventEmitter<T> {
    private listeners = new Set<Listener<T>>();
    readonly event: Event<T> = (listener, thisArgs, disposables) => {
        const bound: Listener<T> = (e) => listener.call(thisArgs, e);
        this.listeners.add(bound);
        const d = new Disposable(() => this.listeners.delete(bound));
        disposables?.push(d);
        return d;
    };
    fire(e: T): void {
        for (const listener of [...this.listeners]) {
            listener(e);
        }
    }
    dispose(): void {
        this.listeners.clear();
    }
}

export class CancellationError extends Error {}

export class CancellationTokenSource {
    private readonly emitter = new EventEmitter<undefined>();
    readonly token = {
        isCancellationRequested: false,
        onCancellationRequested: this.emitter.event,
    };
    cancel(): void {
        this.token.isCancellationRequested = true;
        this.emitter.fire(undefined);
    }
    dispose(): void {
        this.emitter.dispose();
    }
}

export class Uri {
    private constructor(
        readonly scheme: string,
        readonly authority: string,
        readonly path: string,
        readonly query: string,
        readonly fragment: string,
    ) {}
    static file(p: string): Uri {
        return new Uri('file', '', nodePath.resolve(p), '', '');
    }
    static parse(value: string): Uri {
        if (value.startsWith('file:')) {
            return Uri.file(fileURLToPath(value));
        }
        const u = new URL(value);
        return new Uri(u.protocol.replace(/:$/, ''), u.host, decodeURIComponent(u.pathname), u.search.replace(/^\?/, ''), u.hash.replace(/^#/, ''));
    }
    static joinPath(base: Uri, ...parts: string[]): Uri {
        return base.with({ path: nodePath.posix.join(base.path, ...parts) });
    }
    static from(c: { scheme: string; authority?: string; path?: string; query?: string; fragment?: string }): Uri {
        return new Uri(c.scheme, c.authority ?? '', c.path ?? '', c.query ?? '', c.fragment ?? '');
    }
    get fsPath(): string {
        return this.path;
    }
    with(c: { scheme?: string; authority?: string; path?: string; query?: string; fragment?: string }): Uri {
        return new Uri(c.scheme ?? this.scheme, c.authority ?? this.authority, c.path ?? this.path, c.query ?? this.query, c.fragment ?? this.fragment);
    }
    toString(): string {
        if (this.scheme === 'file') {
            return pathToFileURL(this.path).href;
        }
        return `${this.scheme}://${this.authority}${this.path}${this.query ? `?${this.query}` : ''}${this.fragment ? `#${this.fragment}` : ''}`;
    }
    toJSON(): unknown {
        return { scheme: this.scheme, path: this.path, external: this.toString() };
    }
}

export class Position {
    constructor(
        readonly line: number,
        readonly character: number,
    ) {}
    isBefore(o: Position): boolean {
        return this.line < o.line || (this.line === o.line && this.character < o.character);
    }
    isBeforeOrEqual(o: Position): boolean {
        return this.isBefore(o) || this.isEqual(o);
    }
    isAfter(o: Position): boolean {
        return !this.isBeforeOrEqual(o);
    }
    isAfterOrEqual(o: Position): boolean {
        return !this.isBefore(o);
    }
    isEqual(o: Position): boolean {
        return this.line === o.line && this.character === o.character;
    }
    compareTo(o: Position): number {
        return this.isBefore(o) ? -1 : this.isEqual(o) ? 0 : 1;
    }
    translate(lineDelta = 0, characterDelta = 0): Position {
        return new Position(this.line + lineDelta, this.character + characterDelta);
    }
    with(line = this.line, character = this.character): Position {
        return new Position(line, character);
    }
}

export class Range {
    readonly start: Position;
    readonly end: Position;
    constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
        if (typeof a === 'number' && typeof b === 'number') {
            this.start = new Position(a, b);
            this.end = new Position(c ?? a, d ?? b);
        } else {
            this.start = a as Position;
            this.end = b as Position;
        }
    }
    get isEmpty(): boolean {
        return this.start.isEqual(this.end);
    }
    get isSingleLine(): boolean {
        return this.start.line === this.end.line;
    }
    contains(p: Position | Range): boolean {
        if (p instanceof Range) {
            return this.contains(p.start) && this.contains(p.end);
        }
        return p.isAfterOrEqual(this.start) && p.isBeforeOrEqual(this.end);
    }
    isEqual(o: Range): boolean {
        return this.start.isEqual(o.start) && this.end.isEqual(o.end);
    }
    with(start = this.start, end = this.end): Range {
        return new Range(start, end);
    }
}

export class Selection extends Range {
    constructor(
        readonly anchor: Position,
        readonly active: Position,
    ) {
        super(anchor.isBefore(active) ? anchor : active, anchor.isBefore(active) ? active : anchor);
    }
    get isReversed(): boolean {
        return this.active.isBefore(this.anchor);
    }
}

export class Location {
    constructor(
        readonly uri: Uri,
        readonly range: Range | Position,
    ) {}
}

export enum DiagnosticSeverity {
    Error = 0,
    Warning = 1,
    Information = 2,
    Hint = 3,
}

export enum DiagnosticTag {
    Unnecessary = 1,
    Deprecated = 2,
}

export class DiagnosticRelatedInformation {
    constructor(
        readonly location: Location,
        readonly message: string,
    ) {}
}

export class Diagnostic {
    source?: string;
    code?: string | number | { value: string | number; target: Uri };
    relatedInformation?: DiagnosticRelatedInformation[];
    tags?: DiagnosticTag[];
    constructor(
        public range: Range,
        public message: string,
        public severity: DiagnosticSeverity = DiagnosticSeverity.Error,
    ) {}
}

export class CodeActionKind {
    static readonly Empty = new CodeActionKind('');
    static readonly QuickFix = new CodeActionKind('quickfix');
    static readonly Refactor = new CodeActionKind('refactor');
    static readonly RefactorExtract = new CodeActionKind('refactor.extract');
    static readonly RefactorInline = new CodeActionKind('refactor.inline');
    static readonly RefactorRewrite = new CodeActionKind('refactor.rewrite');
    static readonly Source = new CodeActionKind('source');
    static readonly SourceOrganizeImports = new CodeActionKind('source.organizeImports');
    static readonly SourceFixAll = new CodeActionKind('source.fixAll');
    constructor(readonly value: string) {}
    append(part: string): CodeActionKind {
        return new CodeActionKind(this.value ? `${this.value}.${part}` : part);
    }
    contains(other: CodeActionKind): boolean {
        return this.value === '' || other.value === this.value || other.value.startsWith(`${this.value}.`);
    }
    intersects(other: CodeActionKind): boolean {
        return this.contains(other) || other.contains(this);
    }
}

export enum CodeActionTriggerKind {
    Invoke = 1,
    Automatic = 2,
}

export interface Command {
    title: string;
    command: string;
    arguments?: unknown[];
}

export class CodeAction {
    command?: Command;
    diagnostics?: Diagnostic[];
    isPreferred?: boolean;
    edit?: WorkspaceEdit;
    constructor(
        public title: string,
        public kind?: CodeActionKind,
    ) {}
}

export class CodeLens {
    constructor(
        public range: Range,
        public command?: Command,
    ) {}
    get isResolved(): boolean {
        return this.command !== undefined;
    }
}

export class MarkdownString {
    isTrusted?: boolean;
    supportThemeIcons?: boolean;
    constructor(public value = '') {}
    appendText(text: string): this {
        this.value += text;
        return this;
    }
    appendMarkdown(text: string): this {
        this.value += text;
        return this;
    }
    appendCodeblock(code: string, language = ''): this {
        this.value += `\n\`\`\`${language}\n${code}\n\`\`\`\n`;
        return this;
    }
}

export class Hover {
    contents: unknown[];
    // As in VS Code: one content becomes a list of one.
    constructor(
        contents: unknown,
        public range?: Range,
    ) {
        this.contents = Array.isArray(contents) ? contents : [contents];
    }
}

export class TextEdit {
    constructor(
        public range: Range,
        public newText: string,
    ) {}
    static replace(range: Range, newText: string): TextEdit {
        return new TextEdit(range, newText);
    }
}

export class WorkspaceEdit {
    readonly edits: [Uri, TextEdit[]][] = [];
    set(uri: Uri, edits: TextEdit[]): void {
        this.edits.push([uri, edits]);
    }
    replace(uri: Uri, range: Range, newText: string): void {
        this.edits.push([uri, [new TextEdit(range, newText)]]);
    }
    entries(): [Uri, TextEdit[]][] {
        return this.edits;
    }
    get size(): number {
        return this.edits.length;
    }
}

export class ThemeColor {
    constructor(readonly id: string) {}
}

export class ThemeIcon {
    constructor(readonly id: string) {}
}

export class RelativePattern {
    constructor(
        readonly base: Uri | string,
        readonly pattern: string,
    ) {}
}

export enum StatusBarAlignment {
    Left = 1,
    Right = 2,
}

export enum ProgressLocation {
    SourceControl = 1,
    Window = 10,
    Notification = 15,
}

export enum TextDocumentSaveReason {
    Manual = 1,
    AfterDelay = 2,
    FocusOut = 3,
}

export enum ConfigurationTarget {
    Global = 1,
    Workspace = 2,
    WorkspaceFolder = 3,
}

export enum FileType {
    Unknown = 0,
    File = 1,
    Directory = 2,
    SymbolicLink = 64,
}

export enum EndOfLine {
    LF = 1,
    CRLF = 2,
}

export enum NotebookCellKind {
    Markup = 1,
    Code = 2,
}

export enum UIKind {
    Desktop = 1,
    Web = 2,
}

export class TabInputText {
    constructor(readonly uri: Uri) {}
}
export class TabInputTextDiff {
    constructor(
        readonly original: Uri,
        readonly modified: Uri,
    ) {}
}
export class TabInputCustom {
    constructor(readonly uri: Uri) {}
}

// ---------------------------------------------------------------- documents and editors

export class TextDocument {
    readonly uri: Uri;
    version = 1;
    isClosed = false;
    readonly isUntitled = false;
    readonly isDirty = false;
    readonly eol = EndOfLine.LF;
    private text: string;
    constructor(
        file: string,
        readonly languageId: string,
    ) {
        this.uri = Uri.file(file);
        this.text = fs.readFileSync(file, 'utf8');
    }
    get fileName(): string {
        return this.uri.fsPath;
    }
    private get lines(): string[] {
        return this.text.split('\n');
    }
    get lineCount(): number {
        return this.lines.length;
    }
    getText(range?: Range): string {
        if (range === undefined) {
            return this.text;
        }
        return this.text.slice(this.offsetAt(range.start), this.offsetAt(range.end));
    }
    lineAt(lineOrPosition: number | Position): { lineNumber: number; text: string; range: Range } {
        const line = typeof lineOrPosition === 'number' ? lineOrPosition : lineOrPosition.line;
        const text = this.lines[line] ?? '';
        return { lineNumber: line, text, range: new Range(line, 0, line, text.length) };
    }
    offsetAt(p: Position): number {
        const lines = this.lines;
        let offset = 0;
        for (let i = 0; i < p.line && i < lines.length; i++) {
            offset += lines[i].length + 1;
        }
        return offset + p.character;
    }
    positionAt(offset: number): Position {
        const before = this.text.slice(0, offset).split('\n');
        return new Position(before.length - 1, before[before.length - 1].length);
    }
    save(): Promise<boolean> {
        return Promise.resolve(true);
    }
}

export interface TextEditor {
    document: TextDocument;
    selection: Selection;
    selections: Selection[];
    visibleRanges: Range[];
    options: Record<string, unknown>;
    viewColumn: number;
}

// ---------------------------------------------------------------- what a test controls

export interface ShownMessage {
    severity: 'information' | 'warning' | 'error';
    message: string;
    items: unknown[];
}

export interface ShownQuickPick {
    items: unknown[];
    options: unknown;
}

export interface StatusBarItem {
    id: string;
    alignment: StatusBarAlignment;
    priority: number;
    name?: string;
    text: string;
    tooltip?: string;
    command?: string;
    backgroundColor?: ThemeColor;
    visible: boolean;
    show(): void;
    hide(): void;
    dispose(): void;
}

export class OutputChannel {
    text = '';
    constructor(readonly name: string) {}
    append(value: string): void {
        this.text += value;
    }
    appendLine(value: string): void {
        this.text += `${value}\n`;
    }
    replace(value: string): void {
        this.text = value;
    }
    clear(): void {
        this.text = '';
    }
    show(): void {
        /* nothing to show outside an editor */
    }
    hide(): void {
        /* nothing to hide outside an editor */
    }
    dispose(): void {
        /* kept for assertions */
    }
}

export class DiagnosticCollection {
    private readonly entries = new Map<string, { uri: Uri; diagnostics: Diagnostic[] }>();
    constructor(readonly name: string) {}
    set(uriOrEntries: Uri | [Uri, Diagnostic[] | undefined][], diagnostics?: Diagnostic[]): void {
        const pairs: [Uri, Diagnostic[] | undefined][] = uriOrEntries instanceof Uri ? [[uriOrEntries, diagnostics]] : uriOrEntries;
        for (const [uri, diags] of pairs) {
            this.entries.set(uri.toString(), { uri, diagnostics: [...(diags ?? [])] });
            standin.diagnosticsChanged.fire(uri);
        }
    }
    get(uri: Uri): Diagnostic[] {
        return this.entries.get(uri.toString())?.diagnostics ?? [];
    }
    has(uri: Uri): boolean {
        return this.entries.has(uri.toString());
    }
    delete(uri: Uri): void {
        this.entries.delete(uri.toString());
        standin.diagnosticsChanged.fire(uri);
    }
    clear(): void {
        this.entries.clear();
    }
    forEach(callback: (uri: Uri, diagnostics: Diagnostic[], collection: this) => unknown): void {
        for (const { uri, diagnostics } of this.entries.values()) {
            callback(uri, diagnostics, this);
        }
    }
    dispose(): void {
        this.entries.clear();
    }
}

type MessageAnswer = (shown: ShownMessage) => unknown;
type QuickPickAnswer = (shown: ShownQuickPick) => unknown;

interface Extension {
    id: string;
    isActive: boolean;
    exports: unknown;
    activate(): Promise<unknown>;
}

/** The controls and records a test uses; reset between tests with `standin.reset()`. */
export const standin = {
    settings: new Map<string, unknown>(),
    messages: [] as ShownMessage[],
    quickPicks: [] as ShownQuickPick[],
    inputBoxes: [] as unknown[],
    inputAnswers: [] as (string | undefined)[],
    answerMessage: (() => undefined) as MessageAnswer,
    answerQuickPick: (() => undefined) as QuickPickAnswer,
    commands: new Map<string, (...args: unknown[]) => unknown>(),
    executedBuiltins: [] as { command: string; args: unknown[] }[],
    providers: new Map<string, unknown[]>(),
    statusBarItems: [] as StatusBarItem[],
    outputChannels: [] as OutputChannel[],
    diagnosticCollections: [] as DiagnosticCollection[],
    diagnosticsChanged: new EventEmitter<Uri>(),
    extensions: new Map<string, Extension>(),
    clipboard: '',
    documents: [] as TextDocument[],
    workspaceFolders: undefined as { uri: Uri; name: string; index: number }[] | undefined,
    activeTextEditor: undefined as TextEditor | undefined,
    emitters: new Map<string, EventEmitter<unknown>>(),

    reset(): void {
        this.settings.clear();
        this.messages.length = 0;
        this.quickPicks.length = 0;
        this.inputBoxes.length = 0;
        this.inputAnswers.length = 0;
        this.answerMessage = () => undefined;
        this.answerQuickPick = () => undefined;
        this.commands.clear();
        this.executedBuiltins.length = 0;
        this.providers.clear();
        this.statusBarItems.length = 0;
        this.outputChannels.length = 0;
        this.diagnosticCollections.length = 0;
        this.extensions.clear();
        this.clipboard = '';
        this.documents.length = 0;
        this.workspaceFolders = undefined;
        this.activeTextEditor = undefined;
        for (const emitter of this.emitters.values()) {
            emitter.dispose();
        }
        this.emitters.clear();
    },

    emitter<T>(name: string): EventEmitter<T> {
        let e = this.emitters.get(name);
        if (e === undefined) {
            e = new EventEmitter<unknown>();
            this.emitters.set(name, e);
        }
        return e as EventEmitter<T>;
    },

    setWorkspaceFolders(paths: string[]): void {
        this.workspaceFolders = paths.map((p, index) => ({ uri: Uri.file(p), name: nodePath.basename(p), index }));
    },

    /** Opens a file as the editor does: the document appears, then becomes the active editor. */
    openEditor(file: string, line = 0, languageId = 'plaintext'): TextEditor {
        const document = new TextDocument(file, languageId);
        this.documents.push(document);
        this.emitter<TextDocument>('workspace.onDidOpenTextDocument').fire(document);
        const cursor = new Selection(new Position(line, 0), new Position(line, 0));
        const editor: TextEditor = {
            document,
            selection: cursor,
            selections: [cursor],
            visibleRanges: [new Range(0, 0, document.lineCount, 0)],
            options: {},
            viewColumn: 1,
        };
        this.activeTextEditor = editor;
        this.emitter<TextEditor | undefined>('window.onDidChangeActiveTextEditor').fire(editor);
        return editor;
    },

    /** Changes settings and tells the listeners, as the Settings editor does. */
    changeSettings(values: Record<string, unknown>): void {
        for (const [key, value] of Object.entries(values)) {
            this.settings.set(key, value);
        }
        const keys = Object.keys(values);
        this.emitter<unknown>('workspace.onDidChangeConfiguration').fire({
            affectsConfiguration: (section: string) => keys.some((k) => k === section || k.startsWith(`${section}.`)),
        });
    },

    diagnostics(uri: Uri): Diagnostic[] {
        return this.diagnosticCollections.flatMap((c) => c.get(uri));
    },
};

// ---------------------------------------------------------------- namespaces

function register(kind: string, provider: unknown): Disposable {
    const list = standin.providers.get(kind) ?? [];
    list.push(provider);
    standin.providers.set(kind, list);
    return new Disposable(() => {
        const i = list.indexOf(provider);
        if (i >= 0) {
            list.splice(i, 1);
        }
    });
}

function show(severity: ShownMessage['severity'], message: string, rest: unknown[]): Promise<unknown> {
    // showXMessage(message, options?, ...items): options is an object without a title.
    const items = rest.filter((r) => typeof r === 'string' || (typeof r === 'object' && r !== null && 'title' in r));
    const shown = { severity, message, items };
    standin.messages.push(shown);
    return Promise.resolve(standin.answerMessage(shown));
}

/** Any `onDid…`/`onWill…` event a test never fires still hands back a working subscription. */
function events<T extends object>(prefix: string, known: T): T {
    return new Proxy(known, {
        get(target, name, receiver) {
            if (typeof name === 'string' && !(name in target) && /^on(Did|Will)/.test(name)) {
                return standin.emitter(`${prefix}.${name}`).event;
            }
            return Reflect.get(target, name, receiver) as unknown;
        },
    });
}

function configuration(section?: string): Record<string, unknown> {
    const full = (key: string): string => (section ? `${section}.${key}` : key);
    const lookup = (key: string): unknown => {
        const name = full(key);
        if (standin.settings.has(name)) {
            return standin.settings.get(name);
        }
        // A section read as a whole: gather its keys into an object, as VS Code does.
        const nested: Record<string, unknown> = {};
        let found = false;
        for (const [k, v] of standin.settings) {
            if (k.startsWith(`${name}.`)) {
                found = true;
                let node = nested;
                const parts = k.slice(name.length + 1).split('.');
                for (const part of parts.slice(0, -1)) {
                    node = (node[part] ??= {}) as Record<string, unknown>;
                }
                node[parts[parts.length - 1]] = v;
            }
        }
        return found ? nested : undefined;
    };
    return {
        get: (key: string, defaultValue?: unknown) => lookup(key) ?? defaultValue,
        has: (key: string) => lookup(key) !== undefined,
        inspect: (key: string) => ({ key: full(key), globalValue: lookup(key) }),
        update: (key: string, value: unknown) => {
            standin.changeSettings({ [full(key)]: value });
            return Promise.resolve();
        },
    };
}

export const workspace = events('workspace', {
    get workspaceFolders() {
        return standin.workspaceFolders;
    },
    get textDocuments() {
        return standin.documents.filter((d) => !d.isClosed);
    },
    notebookDocuments: [] as unknown[],
    getWorkspaceFolder(uri: Uri) {
        return standin.workspaceFolders?.find((f) => {
            const rel = nodePath.relative(f.uri.fsPath, uri.fsPath);
            return !rel.startsWith('..') && !nodePath.isAbsolute(rel);
        });
    },
    getConfiguration(section?: string) {
        return configuration(section);
    },
    createFileSystemWatcher() {
        return events('watcher', { dispose: () => undefined });
    },
    applyEdit() {
        return Promise.resolve(true);
    },
    openTextDocument(uri: Uri) {
        return Promise.resolve(new TextDocument(uri.fsPath, 'plaintext'));
    },
    fs: {
        stat: (uri: Uri) => {
            const s = fs.statSync(uri.fsPath);
            return Promise.resolve({ type: s.isDirectory() ? FileType.Directory : FileType.File, size: s.size, ctime: s.ctimeMs, mtime: s.mtimeMs });
        },
    },
});

export const window = events('window', {
    get activeTextEditor() {
        return standin.activeTextEditor;
    },
    get visibleTextEditors() {
        return standin.activeTextEditor ? [standin.activeTextEditor] : [];
    },
    tabGroups: events('tabGroups', { all: [] as unknown[] }),
    createOutputChannel(name: string) {
        const channel = new OutputChannel(name);
        standin.outputChannels.push(channel);
        return channel;
    },
    createStatusBarItem(id: string, alignment: StatusBarAlignment, priority: number) {
        const item: StatusBarItem = {
            id,
            alignment,
            priority,
            text: '',
            visible: false,
            show() {
                this.visible = true;
            },
            hide() {
                this.visible = false;
            },
            dispose() {
                this.visible = false;
            },
        };
        standin.statusBarItems.push(item);
        return item;
    },
    showInformationMessage: (message: string, ...rest: unknown[]) => show('information', message, rest),
    showWarningMessage: (message: string, ...rest: unknown[]) => show('warning', message, rest),
    showErrorMessage: (message: string, ...rest: unknown[]) => show('error', message, rest),
    async showInputBox(options: { validateInput?: (v: string) => unknown }) {
        standin.inputBoxes.push(options);
        if (standin.inputAnswers.length === 0) {
            throw new Error(`stand-in: an input box was shown but the test gave no answer: ${JSON.stringify(options)}`);
        }
        const answer = standin.inputAnswers.shift();
        if (answer !== undefined && options.validateInput) {
            const problem = await options.validateInput(answer);
            if (problem) {
                throw new Error(`stand-in: the input box would not accept ${JSON.stringify(answer)}: ${JSON.stringify(problem)}`);
            }
        }
        return answer;
    },
    async showQuickPick(items: unknown[] | Promise<unknown[]>, options: unknown) {
        const shown = { items: await items, options };
        standin.quickPicks.push(shown);
        return standin.answerQuickPick(shown);
    },
    withProgress<R>(_options: unknown, task: (progress: { report(v: unknown): void }, token: unknown) => Promise<R>) {
        return task({ report: () => undefined }, new CancellationTokenSource().token);
    },
    showTextDocument(document: TextDocument) {
        return Promise.resolve(standin.openEditor(document.fileName));
    },
});

// Every provider the client registers is kept so a test can ask it, as the editor would.
export const languages = new Proxy(
    {
        createDiagnosticCollection(name = 'default') {
            const collection = new DiagnosticCollection(name);
            standin.diagnosticCollections.push(collection);
            return collection;
        },
        match(selector: unknown, document: TextDocument): number {
            const filters = (Array.isArray(selector) ? selector : [selector]) as (string | { scheme?: string; language?: string })[];
            return filters.some((f) =>
                typeof f === 'string'
                    ? f === document.languageId || f === '*'
                    : (f.scheme === undefined || f.scheme === document.uri.scheme) &&
                      (f.language === undefined || f.language === document.languageId),
            )
                ? 10
                : 0;
        },
        getLanguages: () => Promise.resolve(['plaintext', 'python']),
    },
    {
        get(target, name) {
            if (typeof name === 'string' && !(name in target) && name.startsWith('register')) {
                return (_selector: unknown, provider: unknown) => register(name.slice('register'.length), provider);
            }
            return Reflect.get(target, name) as unknown;
        },
    },
);

const BUILTIN_COMMANDS = new Set(['workbench.action.openSettings', 'setContext']);

export const commands = {
    registerCommand(command: string, callback: (...args: unknown[]) => unknown, thisArg?: unknown) {
        if (standin.commands.has(command)) {
            // VS Code refuses a second registration of one id; so does the stand-in.
            throw new Error(`command '${command}' already exists`);
        }
        standin.commands.set(command, (...args) => callback.apply(thisArg, args));
        return new Disposable(() => standin.commands.delete(command));
    },
    executeCommand(command: string, ...args: unknown[]): Promise<unknown> {
        const handler = standin.commands.get(command);
        if (handler) {
            return Promise.resolve(handler(...args));
        }
        if (BUILTIN_COMMANDS.has(command)) {
            standin.executedBuiltins.push({ command, args });
            return Promise.resolve(undefined);
        }
        return Promise.reject(new Error(`command '${command}' not found`));
    },
    getCommands: () => Promise.resolve([...standin.commands.keys()]),
};

export const extensions = {
    getExtension(id: string) {
        return standin.extensions.get(id);
    },
    get all() {
        return [...standin.extensions.values()];
    },
    onDidChange: new EventEmitter<undefined>().event,
};

export const env = {
    appName: 'VS Code stand-in',
    appRoot: '',
    language: 'en',
    machineId: 'stand-in',
    sessionId: 'stand-in',
    uriScheme: 'vscode',
    uiKind: UIKind.Desktop,
    clipboard: {
        writeText(text: string) {
            standin.clipboard = text;
            return Promise.resolve();
        },
        readText() {
            return Promise.resolve(standin.clipboard);
        },
    },
    openExternal: () => Promise.resolve(true),
};

// vscode-languageclient subclasses many API classes when it loads (CompletionItem,
// InlayHint, ...) but only uses the ones for the features a server offers. Any class the
// stand-in does not define is a plain data holder, looked up through the prototype.
const generics = new Map<string, unknown>();
Object.setPrototypeOf(
    module.exports,
    new Proxy(
        {},
        {
            get(_target, name) {
                if (typeof name !== 'string' || !/^[A-Z]/.test(name)) {
                    return undefined;
                }
                let cls = generics.get(name);
                if (cls === undefined) {
                    cls = class {
                        readonly args: unknown[];
                        constructor(...args: unknown[]) {
                            this.args = args;
                        }
                    };
                    Object.defineProperty(cls, 'name', { value: name });
                    generics.set(name, cls);
                }
                return cls;
            },
        },
    ),
);
