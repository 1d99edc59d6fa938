// A branch that carries a poison whose cure landed on another branch: the server's quick
// fix and the "Cherry-pick missing cure" command both bring the cure over, after the
// server asks the user to confirm.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { activate, Activated, git, gitPoison, isolateHome, python, Repo, standin, statusItem, tempDir, vscode, waitFor } from './harness';

const APP = 'def load():\n    return read()\n';
const POISONED_APP = 'def load():\n    return read() or cache()\n';

let repo: Repo;
let poison: string;
let cure: string;
let recordId: string;
let ext: Activated;

interface Result {
    ok: boolean;
    message: string;
    status?: string;
}

function cherryPicksOnRelease(): string[] {
    return git(repo.root, 'log', '--format=%B', 'master..release')
        .split('\n')
        .filter((l) => l.startsWith('(cherry picked from commit'));
}

/** The user answers the server's confirmation with `answer`. */
function confirmWith(answer: 'Cherry-pick' | 'Cancel'): void {
    standin.answerMessage = (shown) =>
        shown.items.find((i) => (i as { title?: string }).title === answer);
}

before(async () => {
    isolateHome();
    repo = new Repo(path.join(tempDir('gp-vscode-'), 'svc'));
    repo.commit('initial', { 'app.py': APP, 'lib.py': 'def read():\n    return 1\n' });
    poison = repo.commit('read through the cache', { 'app.py': POISONED_APP });
    git(repo.root, 'branch', 'release');
    cure = repo.commit('cache: never serve stale entries', { 'lib.py': 'def read():\n    return 2\n' });
    recordId = repo.poison(poison, 'load returns stale data');
    gitPoison(repo.root, 'cure', recordId, cure);
    git(repo.root, 'checkout', '-q', 'release');
    ext = await activate([repo.root], { 'gitPoison.interpreter': [python()] });
});

beforeEach(() => {
    git(repo.root, 'checkout', '-q', 'release');
    git(repo.root, 'reset', '-q', '--hard', poison);
});

after(async () => {
    await ext.close();
});

test('the quick fix on a poisoned line cherry-picks the cure from master once confirmed', async () => {
    const editor = standin.openEditor(repo.file('app.py'), 1, 'python');
    const [diagnostic] = await waitFor('a diagnostic that knows the cure', () => {
        const d = standin.diagnostics(editor.document.uri);
        const data = (d[0] as unknown as { data?: { cures: { commit: string }[] } } | undefined)?.data;
        return data?.cures.some((c) => c.commit === cure) === true && d;
    });
    // Ask for code actions as the editor's light bulb does.
    const providers = standin.providers.get('CodeActionsProvider') as
        | { provideCodeActions(...args: unknown[]): Promise<vscode.CodeAction[]> }[]
        | undefined;
    assert.ok(providers?.length, 'the client registered no code action provider');
    const context = { diagnostics: [diagnostic], triggerKind: vscode.CodeActionTriggerKind.Invoke, only: undefined };
    const actions = await providers[0].provideCodeActions(editor.document, diagnostic.range, context, new vscode.CancellationTokenSource().token);
    assert.equal(actions.length, 1);
    const [action] = actions;
    assert.equal(action.title, `Cherry-pick cure ${cure.slice(0, 12)} from master`);
    assert.equal(action.command?.command, 'gitPoison.cherryPickCure');
    assert.deepEqual(action.command.arguments, [{ uri: editor.document.uri.toString(), recordId, cure }]);

    confirmWith('Cherry-pick');
    // Choosing the quick fix runs its command, which the client forwards to the server.
    const result = (await vscode.commands.executeCommand(action.command.command, ...(action.command.arguments ?? []))) as Result;
    assert.equal(result.ok, true, result.message);
    const question = standin.messages.find((m) => m.items.length === 2);
    assert.ok(question, 'the server did not ask for confirmation');
    assert.match(question.message, new RegExp(cure.slice(0, 12)));
    assert.match(question.message, new RegExp(recordId));
    assert.deepEqual(cherryPicksOnRelease(), [`(cherry picked from commit ${cure})`]);
});

test('"Cherry-pick missing cure" offers the cure; Cancel leaves the branch alone', async () => {
    standin.openEditor(repo.file('app.py'), 1, 'python');
    await waitFor('the status bar to count the poison', () => statusItem().text.includes('1 uncured'));
    standin.answerQuickPick = (shown) => shown.items[0];
    confirmWith('Cancel');
    const result = (await vscode.commands.executeCommand('gitPoison.cherryPickMissingCure')) as Result;
    assert.equal(result.ok, false);
    assert.equal(result.status, 'cancelled');
    const offered = standin.quickPicks.at(-1)?.items as { label: string; description: string }[];
    assert.deepEqual(
        offered.map((i) => `${i.label} ${i.description}`),
        [`$(git-commit) ${cure.slice(0, 12)} cures ${recordId} · on master`],
    );
    assert.deepEqual(cherryPicksOnRelease(), []);
});

test('"Cherry-pick missing cure" confirmed brings the cure onto the branch', async () => {
    standin.openEditor(repo.file('app.py'), 1, 'python');
    standin.answerQuickPick = (shown) => shown.items[0];
    confirmWith('Cherry-pick');
    const result = (await vscode.commands.executeCommand('gitPoison.cherryPickMissingCure')) as Result;
    assert.equal(result.ok, true, result.message);
    assert.deepEqual(cherryPicksOnRelease(), [`(cherry picked from commit ${cure})`]);
    assert.ok(standin.messages.some((m) => m.severity === 'information' && m.message.startsWith('git-poison:')));
    // The copy made with -x counts as the cure: the branch is healthy again.
    await waitFor('the status bar to turn healthy', () => statusItem().text === '$(check) git-poison');
});
