// The status-bar item in a workspace of two repositories follows the active editor:
// each repository's count, as the server reports it for that repository.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { activate, Activated, isolateHome, python, Repo, standin, statusItem, tempDir, waitFor } from './harness';

let poisoned: Repo;
let healthy: Repo;
let ext: Activated;

before(async () => {
    isolateHome();
    const dir = tempDir('gp-vscode-');
    poisoned = new Repo(path.join(dir, 'billing'));
    poisoned.commit('initial', { 'pay.py': 'total = 1\n' });
    const bad = poisoned.commit('round totals', { 'pay.py': 'total = round(1)\n' });
    poisoned.poison(bad, 'totals lose cents');
    healthy = new Repo(path.join(dir, 'search'));
    healthy.commit('initial', { 'find.py': 'hits = []\n' });
    ext = await activate([poisoned.root, healthy.root], { 'gitPoison.interpreter': [python()] });
});

after(async () => {
    await ext.close();
});

test('status shows running before any repository is reported', () => {
    assert.equal(statusItem().text, '$(git-commit) git-poison');
});

test('the count follows the active editor from one repository to the other', async () => {
    standin.openEditor(poisoned.file('pay.py'), 0, 'python');
    await waitFor('billing\'s count', () => statusItem().text === '$(bug) 1 uncured');
    assert.match(statusItem().tooltip ?? '', /1 uncured poison on master/);

    standin.openEditor(healthy.file('find.py'), 0, 'python');
    await waitFor('search is healthy', () => statusItem().text === '$(check) git-poison');

    // Back to billing: its last report is still known, no new request needed.
    standin.openEditor(poisoned.file('pay.py'), 0, 'python');
    assert.equal(statusItem().text, '$(bug) 1 uncured');
});
