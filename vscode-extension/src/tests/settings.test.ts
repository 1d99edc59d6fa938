// Settings reach the running server in its contract's shape: the code lens appears when
// `gitPoison.codeLens.enabled` is switched on, without a restart.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { activate, Activated, isolateHome, python, Repo, standin, tempDir, vscode, waitFor } from './harness';

let repo: Repo;
let ext: Activated;
let recordId: string;

interface LensProvider {
    provideCodeLenses(document: unknown, token: unknown): Promise<vscode.CodeLens[] | null | undefined>;
}

async function lenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const providers = standin.providers.get('CodeLensProvider') as LensProvider[] | undefined;
    assert.ok(providers?.length, 'the client registered no code lens provider');
    return (await providers[0].provideCodeLenses(document, new vscode.CancellationTokenSource().token)) ?? [];
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + 20_000;
    for (;;) {
        const value = await probe();
        if (value !== undefined) {
            return value;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out waiting for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

before(async () => {
    isolateHome();
    repo = new Repo(path.join(tempDir('gp-vscode-'), 'svc'));
    repo.commit('initial', { 'app.py': 'a = 1\n' });
    const poison = repo.commit('b', { 'app.py': 'a = 1\nb = 2\n' });
    recordId = repo.poison(poison, 'b is off by one');
    ext = await activate([repo.root], { 'gitPoison.interpreter': [python()] });
});

after(async () => {
    await ext.close();
});

test('the code lens is off by default and appears when the setting is switched on', async () => {
    const editor = standin.openEditor(repo.file('app.py'), 1, 'python');
    await waitFor('the diagnostic', () => standin.diagnostics(editor.document.uri).some((d) => d.code === recordId));
    assert.deepEqual(await lenses(editor.document), []);

    standin.changeSettings({ 'gitPoison.codeLens.enabled': true });
    const shown = await eventually('a code lens', async () => {
        const found = await lenses(editor.document);
        return found.length > 0 ? found : undefined;
    });
    assert.equal(shown.length, 1);
    assert.match(shown[0].command?.title ?? '', /\b1 uncured poison\b/);

    standin.changeSettings({ 'gitPoison.codeLens.enabled': false });
    await eventually('the code lens to go', async () => ((await lenses(editor.document)).length === 0 ? true : undefined));
});

test('with showNotifications "always" a command\'s result is said once, by the server', async () => {
    standin.changeSettings({ 'gitPoison.showNotifications': 'always' });
    let message = '';
    await eventually('the server to say the sync result', async () => {
        standin.messages.length = 0;
        const result = (await vscode.commands.executeCommand('gitPoison.syncRecords')) as { ok: boolean; message: string } | undefined;
        assert.equal(result?.ok, true);
        message = result.message;
        await new Promise((resolve) => setTimeout(resolve, 200));
        return standin.messages.length > 0 ? true : undefined;
    });
    const said = standin.messages.filter((m) => m.message.includes(message));
    assert.equal(said.length, 1, JSON.stringify(standin.messages));
    assert.equal(said[0].severity, 'information');
});
