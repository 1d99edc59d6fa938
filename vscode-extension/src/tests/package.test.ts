// The manifest matches the code it ships: every command the extension registers is in the
// palette with the title users were promised, and the .vsix holds the bundle and nothing else.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { activate, EXTENSION_ROOT, isolateHome, Repo, standin, tempDir } from './harness';

interface Manifest {
    main: string;
    engines: { vscode: string };
    devDependencies: Record<string, string>;
    contributes: {
        commands: { command: string; title: string }[];
        menus: Record<string, { command: string }[]>;
        configuration: { properties: Record<string, { default: unknown }> };
    };
}

const manifest = JSON.parse(fs.readFileSync(path.join(EXTENSION_ROOT, 'package.json'), 'utf8')) as Manifest;

test('every command the extension registers is contributed with its promised title', async () => {
    isolateHome();
    const repo = new Repo(path.join(tempDir('gp-vscode-'), 'svc'));
    // No server needed to see what activation registers.
    const ext = await activate([repo.root], { 'gitPoison.interpreter': ['/nonexistent/python'] }, { expectStartFailure: true });
    const registered = [...standin.commands.keys()].sort();
    await ext.close();
    const contributed = manifest.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(registered, contributed);
    const titles = Object.fromEntries(manifest.contributes.commands.map((c) => [c.command, c.title]));
    assert.deepEqual(
        [
            titles['gitPoison.poisonCommitOfLine'],
            titles['gitPoison.recordCureFor'],
            titles['gitPoison.checkThisBranch'],
            titles['gitPoison.syncRecords'],
            titles['gitPoison.cherryPickMissingCure'],
            titles['gitPoison.restart'],
        ],
        [
            'Poison the commit of this line…',
            'Record a cure…',
            'Check this branch',
            'Sync poison records',
            'Cherry-pick missing cure',
            'Restart git-poison',
        ],
    );
    for (const [menu, entries] of Object.entries(manifest.contributes.menus)) {
        for (const entry of entries) {
            assert.ok(contributed.includes(entry.command), `${menu} names unknown command ${entry.command}`);
        }
    }
});

test('the settings of the Python tools family are contributed with their defaults', () => {
    const props = manifest.contributes.configuration.properties;
    assert.deepEqual(props['gitPoison.interpreter'].default, []);
    assert.equal(props['gitPoison.showNotifications'].default, 'onError');
    assert.equal(props['gitPoison.codeLens.enabled'].default, false);
});

test('@types/vscode is no newer than the engine the manifest claims', () => {
    const engine = manifest.engines.vscode.replace(/^\^/, '');
    const types = manifest.devDependencies['@types/vscode'].replace(/^[~^]/, '');
    assert.equal(types, engine);
});

test('the .vsix would hold the bundle, manifest, readme and licence only', () => {
    const vsce = path.join(EXTENSION_ROOT, 'node_modules', '.bin', 'vsce');
    const files = execFileSync(vsce, ['ls', '--no-dependencies'], { cwd: EXTENSION_ROOT, encoding: 'utf8' })
        .trim()
        .split('\n')
        .sort();
    assert.deepEqual(files, ['LICENSE', 'README.md', manifest.main.replace(/^\.\//, ''), 'package.json'].sort());
});
