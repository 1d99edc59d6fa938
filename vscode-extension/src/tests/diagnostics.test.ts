// The bundled extension, driven through the stand-in editor, starts the real git-poison
// language server and its warnings arrive through the real vscode-languageclient.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { activate, Activated, isolateHome, python, Repo, standin, statusItem, tempDir, vscode, waitFor } from './harness';

const APP = 'def load():\n    return read()\n\ndef save(x):\n    write(x)\n';
const POISONED_APP = 'def load():\n    return read() or cache()\n\ndef save(x):\n    write(x)\n';

let repo: Repo;
let poison: string;
let recordId: string;
let ext: Activated;

before(async () => {
    isolateHome();
    repo = new Repo(`${tempDir('gp-vscode-')}/svc`);
    repo.commit('initial', { 'app.py': APP });
    poison = repo.commit('read through the cache', { 'app.py': POISONED_APP });
    repo.commit('unrelated', { 'README': 'hello\n' });
    recordId = repo.poison(poison, 'load returns stale data', '--bug', 'JIRA-7');
    ext = await activate([repo.root], { 'gitPoison.interpreter': [python()] });
});

after(async () => {
    await ext.close();
});

test('line from a poisoned commit gets a git-poison warning through the real client', async () => {
    const editor = standin.openEditor(repo.file('app.py'), 0, 'python');
    const diagnostics = await waitFor('diagnostics for app.py', () => {
        const d = standin.diagnostics(editor.document.uri);
        return d.length > 0 && d;
    });
    assert.equal(diagnostics.length, 1);
    const [d] = diagnostics;
    assert.equal(d.source, 'git-poison');
    assert.equal(d.severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(d.code, recordId);
    // Line 2 (0-based 1) is the one the poisoned commit wrote; line 1 is older.
    assert.equal(d.range.start.line, 1);
    assert.equal(d.range.end.line, 1);
    assert.match(d.message, /load returns stale data/);
    const data = (d as unknown as { data: { recordId: string; poison: string; cures: unknown[] } }).data;
    assert.equal(data.recordId, recordId);
    assert.equal(data.poison, poison);
    assert.deepEqual(data.cures, []);
});

test('hovering the poisoned line shows the record from the server', async () => {
    const editor = standin.openEditor(repo.file('app.py'), 1, 'python');
    const providers = standin.providers.get('HoverProvider') as
        | { provideHover(...args: unknown[]): Promise<vscode.Hover | undefined> }[]
        | undefined;
    assert.ok(providers?.length, 'the client registered no hover provider');
    const token = new vscode.CancellationTokenSource().token;
    const hover = await waitFor('the diagnostic first', () => standin.diagnostics(editor.document.uri).length > 0).then(() =>
        providers[0].provideHover(editor.document, new vscode.Position(1, 4), token),
    );
    assert.ok(hover, 'no hover on the poisoned line');
    const text = (hover.contents as vscode.MarkdownString[]).map((m) => m.value).join('\n');
    assert.match(text, new RegExp(`git-poison ${recordId}`));
    assert.match(text, /JIRA-7/);
    const none = await providers[0].provideHover(editor.document, new vscode.Position(0, 1), token);
    assert.equal(none ?? undefined, undefined, 'a hover on a line no poison wrote');
});

test('status-bar item counts the uncured poison and lists it on click', async () => {
    const item = statusItem();
    await waitFor('the uncured count in the status bar', () => item.text.includes('1 uncured'));
    assert.equal(item.visible, true);
    assert.ok(item.command);
    let shown: vscode.ShownQuickPick | undefined;
    standin.answerQuickPick = (pick) => {
        shown = pick;
        return undefined; // the user looks, then dismisses the list
    };
    const result = (await vscode.commands.executeCommand(item.command)) as
        | undefined
        | { report: { poisoned: { id: string }[] } };
    assert.ok(result?.report, JSON.stringify([result, standin.messages]));
    assert.deepEqual(
        result.report.poisoned.map((f) => f.id),
        [recordId],
    );
    assert.ok(shown, 'no quick pick was shown');
    const labels = (shown.items as { label: string; description: string }[]).map((i) => `${i.label} ${i.description}`);
    assert.equal(labels.length, 1);
    assert.match(labels[0], new RegExp(`${recordId}.*JIRA-7.*load returns stale data`));
});

test('the server log reaches the git-poison output channel', () => {
    const channel = standin.outputChannels.find((c) => c.name === 'git-poison');
    assert.ok(channel);
    assert.match(channel.text, /using .*python.* \(from setting\)/);
    assert.match(channel.text, /git-poison language server git-poison-lsp \d/);
});
