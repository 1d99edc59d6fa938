// Which Python runs the server, what the user is told when git-poison is missing there,
// and restarting: the setting, then the Python extension, then python3.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, before, test } from 'node:test';
import { activate, Activated, isolateHome, python, Repo, serverLog, standin, statusItem, tempDir, vscode, waitFor } from './harness';
// Our own modules, compiled, with `vscode` resolved to the stand-in by the harness.
import { installCommand, resolveInterpreter } from '../common/python';
import { getExtensionSettings } from '../common/settings';

let repo: Repo;
let withoutGitPoison: string;
let opened: Activated | undefined;

/** Registers a stand-in of the Python extension whose selected interpreter is `exe`. */
function pythonExtension(exe: string): void {
    const api = {
        environments: {
            getActiveEnvironmentPath: () => ({ id: exe, path: exe }),
            resolveEnvironment: (env: { path: string }) => Promise.resolve({ executable: { uri: vscode.Uri.file(env.path) } }),
            onDidChangeActiveEnvironmentPath: standin.emitter('python.onDidChangeActiveEnvironmentPath').event,
        },
    };
    standin.extensions.set('ms-python.python', { id: 'ms-python.python', isActive: false, exports: api, activate: () => Promise.resolve(api) });
}

before(() => {
    isolateHome();
    const dir = tempDir('gp-vscode-');
    repo = new Repo(path.join(dir, 'svc'));
    repo.commit('initial', { 'app.py': 'x = 1\n' });
    // A real interpreter that lacks git-poison, as a fresh system Python does.
    execFileSync(python(), ['-m', 'venv', '--without-pip', path.join(dir, 'empty-venv')]);
    withoutGitPoison = path.join(dir, 'empty-venv', 'bin', 'python');
});

afterEach(async () => {
    await opened?.close();
    opened = undefined;
});

test('the gitPoison.interpreter setting wins over the Python extension', async () => {
    standin.reset();
    standin.setWorkspaceFolders([repo.root]);
    standin.settings.set('gitPoison.interpreter', ['${workspaceFolder}/.venv/bin/python', '-X', 'utf8']);
    pythonExtension('/opt/other/python');
    const [folder] = standin.workspaceFolders ?? [];
    assert.deepEqual(await resolveInterpreter(folder), {
        command: [path.join(repo.root, '.venv/bin/python'), '-X', 'utf8'],
        source: 'setting',
    });
});

test('without the setting, the Python extension\'s selected interpreter is used', async () => {
    standin.reset();
    pythonExtension('/opt/team/bin/python3.11');
    assert.deepEqual(await resolveInterpreter(), { command: ['/opt/team/bin/python3.11'], source: 'python-extension' });
});

test('without the setting or the Python extension, python3 is used', async () => {
    standin.reset();
    assert.deepEqual(await resolveInterpreter(), { command: ['python3'], source: 'default' });
});

test('settings out of range fall back to the defaults', () => {
    standin.reset();
    standin.settings.set('gitPoison.showNotifications', 'loud');
    standin.settings.set('gitPoison.codeLens.enabled', 'yes');
    standin.settings.set('gitPoison.interpreter', 'python3');
    assert.deepEqual(getExtensionSettings(), { interpreter: [], showNotifications: 'onError', codeLens: false });
});

test('the install command quotes an interpreter path with spaces', () => {
    assert.equal(
        installCommand({ command: ['/home/me/My Tools/bin/python'], source: 'setting' }),
        "'/home/me/My Tools/bin/python' -m pip install git-poison",
    );
});

test('an interpreter without git-poison gets one message with the install command', async () => {
    opened = await activate(
        [repo.root],
        { 'gitPoison.interpreter': [withoutGitPoison] },
        {
            expectStartFailure: true,
            prepare: () => {
                standin.answerMessage = (shown) => shown.items.find((i) => i === 'Copy install command');
            },
        },
    );
    await waitFor('the message', () => standin.messages.length > 0);
    assert.equal(standin.messages.length, 1, JSON.stringify(standin.messages));
    const [shown] = standin.messages;
    assert.equal(shown.severity, 'error');
    assert.equal(shown.message, `git-poison is not installed in ${withoutGitPoison}. Install it with: ${withoutGitPoison} -m pip install git-poison`);
    await waitFor('the install command on the clipboard', () => standin.clipboard !== '' && standin.clipboard);
    assert.equal(standin.clipboard, `${withoutGitPoison} -m pip install git-poison`);
    assert.match(statusItem().text, /circle-slash/);
    assert.match(serverLog(), /No module named git_poison_lsp/);
});

test('an interpreter that does not exist is named, with the setting to change', async () => {
    opened = await activate([repo.root], { 'gitPoison.interpreter': ['/nonexistent/bin/python3'] }, { expectStartFailure: true });
    await waitFor('the message', () => standin.messages.length > 0);
    assert.equal(standin.messages.length, 1);
    assert.match(standin.messages[0].message, /the Python interpreter "\/nonexistent\/bin\/python3" was not found/);
});

test('an interpreter that fails for another reason is shown as it is, without pip advice', async () => {
    const broken = path.join(path.dirname(withoutGitPoison), 'python-too-old');
    fs.writeFileSync(broken, '#!/bin/sh\necho "SyntaxError: invalid syntax (walrus needs 3.8)" >&2\nexit 1\n', { mode: 0o755 });
    opened = await activate([repo.root], { 'gitPoison.interpreter': [broken] }, { expectStartFailure: true });
    await waitFor('the message', () => standin.messages.length > 0);
    assert.equal(standin.messages.length, 1);
    assert.equal(
        standin.messages[0].message,
        `git-poison could not start with ${broken}: SyntaxError: invalid syntax (walrus needs 3.8). See the "git-poison" output.`,
    );
});

test('fixing the interpreter setting starts the server without a reload', async () => {
    opened = await activate([repo.root], { 'gitPoison.interpreter': [withoutGitPoison] }, { expectStartFailure: true });
    assert.match(statusItem().text, /circle-slash/);
    standin.changeSettings({ 'gitPoison.interpreter': [python()] });
    const editor = standin.openEditor(repo.file('app.py'), 0, 'python');
    await waitFor('the healthy status from the started server', () => statusItem().text === '$(check) git-poison');
    assert.equal(standin.diagnostics(editor.document.uri).length, 0);
});

test('the Python extension\'s interpreter starts the server when nothing is configured', async () => {
    opened = await activate([repo.root], {}, { prepare: () => { pythonExtension(python()); } });
    assert.match(serverLog(), /\(from python-extension\)/);
    assert.doesNotMatch(statusItem().text, /circle-slash/);
    // Picking another interpreter in the Python extension restarts the server with it.
    standin.emitter('python.onDidChangeActiveEnvironmentPath').fire({ id: python(), path: python() });
    await waitFor('a second start', () => (serverLog().match(/\(from python-extension\)/g) ?? []).length === 2);
    await waitFor('the server running again', () => statusItem().text === '$(git-commit) git-poison');
});

test('"Restart git-poison" starts a fresh server that still answers', async () => {
    opened = await activate([repo.root], { 'gitPoison.interpreter': [python()] });
    const started = (serverLog().match(/git-poison language server git-poison-lsp/g) ?? []).length;
    const ok = await vscode.commands.executeCommand('gitPoison.restart');
    assert.equal(ok, true);
    assert.equal((serverLog().match(/git-poison language server git-poison-lsp/g) ?? []).length, started + 1);
    const result = (await vscode.commands.executeCommand('gitPoison.checkThisBranch')) as { ok: boolean; report: { verdict: string } };
    assert.equal(result.report.verdict, 'healthy');
});
