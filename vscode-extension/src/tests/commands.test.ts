// Each palette command round-trips through the real client and the real server, and its
// effect is read back with the real `git poison` CLI.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { activate, Activated, git, gitPoison, isolateHome, python, Repo, standin, statusItem, tempDir, vscode, waitFor } from './harness';

interface Result {
    ok: boolean;
    message: string;
    id?: string;
    poison?: string;
    report?: { verdict: string; poisoned: { id: string }[] };
}

const APP = 'def load():\n    return read()\n';
const POISONED_APP = 'def load():\n    return read() or cache()\n';

let repo: Repo;
let poison: string;
let ext: Activated;
let recordId: string;
let remote: string;

async function run(command: string, ...args: unknown[]): Promise<Result> {
    standin.messages.length = 0;
    const result = (await vscode.commands.executeCommand(command, ...args)) as Result | undefined;
    assert.ok(result, `${command} gave no result; messages: ${JSON.stringify(standin.messages)}`);
    return result;
}

function showJson(id: string): { poisons: string[]; cures: string[]; comment: string; bug: string | null } {
    const shown = JSON.parse(gitPoison(repo.root, 'show', id, '--json')) as Record<string, unknown>;
    return (shown.record ?? shown) as { poisons: string[]; cures: string[]; comment: string; bug: string | null };
}

function listed(): { id: string }[] {
    return (JSON.parse(gitPoison(repo.root, '--no-fetch', 'list', '--json')) as { records: { id: string }[] }).records;
}

before(async () => {
    isolateHome();
    repo = new Repo(path.join(tempDir('gp-vscode-'), 'svc'));
    repo.commit('initial', { 'app.py': APP });
    poison = repo.commit('read through the cache', { 'app.py': POISONED_APP });
    // The team shares records through a poisons remote, configured before the editor opens.
    remote = path.join(tempDir('gp-vscode-remote-'), 'poisons.git');
    git(path.dirname(remote), 'init', '-q', '--bare', remote);
    git(repo.root, 'config', 'poison.project', 'svc');
    gitPoison(repo.root, 'init', '--remote', remote);
    ext = await activate([repo.root], { 'gitPoison.interpreter': [python()] });
});

after(async () => {
    await ext.close();
});

test('"Poison the commit of this line" records the commit that wrote the line', async () => {
    const editor = standin.openEditor(repo.file('app.py'), 1, 'python');
    standin.inputAnswers.push('load returns stale data', 'JIRA-9');
    const result = await run('gitPoison.poisonCommitOfLine');
    assert.equal(result.ok, true, result.message);
    assert.equal(result.poison, poison);
    assert.ok(result.id);
    recordId = result.id;
    const record = showJson(recordId);
    assert.deepEqual(record.poisons, [poison]);
    assert.equal(record.comment, 'load returns stale data');
    assert.equal(record.bug, 'JIRA-9');
    assert.ok(standin.messages.some((m) => m.severity === 'information' && m.message.includes(recordId)));
    // The server annotates the line at once, and the status bar counts it.
    await waitFor('the new poison as a diagnostic', () => standin.diagnostics(editor.document.uri).some((d) => d.code === recordId));
    await waitFor('1 uncured in the status bar', () => statusItem().text.includes('1 uncured'));
});

test('an empty comment is refused before anything reaches the server', async () => {
    standin.openEditor(repo.file('app.py'), 1, 'python');
    standin.inputAnswers.push('   ');
    await run('gitPoison.poisonCommitOfLine').catch(() => undefined);
    assert.ok(
        standin.messages.some((m) => m.severity === 'error' && /would not accept/.test(m.message)),
        JSON.stringify(standin.messages),
    );
    assert.equal(listed().length, 1);
});

test('poisoning a line that is not committed yet is one clear error, and records nothing', async () => {
    const file = repo.write('app.py', `${POISONED_APP}    # not committed\n`);
    standin.openEditor(file, 2, 'python');
    standin.inputAnswers.push('something', '');
    const result = await run('gitPoison.poisonCommitOfLine');
    assert.equal(result.ok, false);
    assert.match(result.message, /not committed/);
    // Said once: by the server (showNotifications "onError"), not again by the extension.
    assert.equal(standin.messages.filter((m) => m.message.includes(result.message)).length, 1, JSON.stringify(standin.messages));
    assert.equal(listed().length, 1);
    git(repo.root, 'checkout', '--', 'app.py');
});

test('"Check this branch" lists the poisoned finding in a quick pick', async () => {
    standin.openEditor(repo.file('app.py'), 0, 'python');
    standin.quickPicks.length = 0;
    const result = await run('gitPoison.checkThisBranch');
    assert.equal(result.ok, true);
    assert.equal(result.report?.verdict, 'poisoned');
    assert.deepEqual(result.report.poisoned.map((f) => f.id), [recordId]);
    assert.equal(standin.quickPicks.length, 1);
    const [item] = standin.quickPicks[0].items as { label: string; detail: string }[];
    assert.match(item.label, new RegExp(recordId));
    assert.match(item.detail, new RegExp(`poison ${poison.slice(0, 12)}.*known unfixed bug`));
});

test('"Record a cure" offers the records, then records the fixing commit', async () => {
    const fix = repo.commit('load: bypass the stale cache', { 'app.py': 'def load():\n    return read()\n' });
    standin.openEditor(repo.file('app.py'), 1, 'python');
    standin.answerQuickPick = (shown) => (shown.items as { label: string }[]).find((i) => i.label === recordId);
    standin.inputAnswers.push('HEAD');
    const result = await run('gitPoison.recordCureFor');
    assert.equal(result.ok, true, result.message);
    assert.deepEqual(showJson(recordId).cures, [fix]);
    const offered = standin.quickPicks.at(-1)?.items as { label: string; description: string }[];
    assert.deepEqual(offered.map((i) => `${i.label}: ${i.description}`), [`${recordId}: load returns stale data`]);
    await waitFor('the status bar back to healthy', () => statusItem().text === '$(check) git-poison');
});

test('"Check this branch" on a healthy branch says so without a list', async () => {
    standin.quickPicks.length = 0;
    const result = await run('gitPoison.checkThisBranch');
    assert.equal(result.report?.verdict, 'healthy');
    assert.equal(standin.quickPicks.length, 0);
    assert.ok(standin.messages.some((m) => m.severity === 'information' && m.message === `git-poison: ${result.message}`));
});

test('"Sync poison records" brings in the record a teammate pushed', async () => {
    const teammate = path.join(path.dirname(repo.root), 'teammate');
    git(path.dirname(repo.root), 'clone', '-q', repo.root, teammate);
    git(teammate, 'config', 'poison.project', 'svc');
    gitPoison(teammate, 'init', '--remote', remote);
    const theirs = gitPoison(teammate, 'add', poison, '-m', 'also breaks the importer');
    const result = await run('gitPoison.syncRecords');
    assert.equal(result.ok, true, result.message);
    assert.equal((result as unknown as { records: number }).records, 2);
    assert.deepEqual(listed().map((r) => r.id).sort(), [recordId, theirs].sort());
});
