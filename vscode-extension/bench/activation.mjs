// How long a user waits in the editor, beside what the same machine needs without it.
//
//   npm run bench            (after npm run compile; GIT_POISON_PYTHON as for npm test)
//
// Measured through the shipped bundle, the real vscode-languageclient and the real server
// (the `vscode` module is the test stand-in): activation until the server is running, then
// opening a file until its first diagnostics arrive. Baselines, measured in the same run on
// the same repository: `python -m git_poison_lsp --version` (the probe the extension runs
// before each start) and `git poison check` (the CLI answering the same question).

import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const h = require('../out/tests/harness.js');

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const COMMITS = Number(process.env.BENCH_COMMITS ?? 200);

function median(values) {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
}

function time(fn) {
    const t0 = performance.now();
    fn();
    return performance.now() - t0;
}

h.isolateHome();
const repo = new h.Repo(path.join(h.tempDir('gp-vscode-bench-'), 'svc'));
const lines = Array.from({ length: 400 }, (_, i) => `line ${i}`);
repo.commit('initial', { 'app.py': `${lines.join('\n')}\n` });
const poisons = [];
for (let i = 1; i < COMMITS; i++) {
    lines[(i * 7) % lines.length] = `line ${i} changed`;
    const sha = repo.commit(`change ${i}`, { 'app.py': `${lines.join('\n')}\n` });
    if (i % 20 === 0) {
        poisons.push(sha);
    }
}
for (const sha of poisons) {
    repo.poison(sha, `bug introduced by ${sha.slice(0, 8)}`);
}
const python = h.python();
const file = repo.file('app.py');

const probe = [];
const cli = [];
const start = [];
const firstDiagnostics = [];
for (let run = 0; run < RUNS; run++) {
    probe.push(time(() => execFileSync(python, ['-m', 'git_poison_lsp', '--version'])));
    cli.push(time(() => {
        try {
            execFileSync(python, ['-m', 'poison_tools', 'check'], { cwd: repo.root, stdio: 'ignore' });
        } catch (e) {
            if (e.status !== 1) throw e; // 1 = poisoned, as expected here
        }
    }));
    const t0 = performance.now();
    const ext = await h.activate([repo.root], { 'gitPoison.interpreter': [python] });
    const t1 = performance.now();
    const editor = h.standin.openEditor(file, 0, 'python');
    await h.waitFor('diagnostics', () => h.standin.diagnostics(editor.document.uri).length > 0, 60_000);
    const t2 = performance.now();
    await ext.close();
    start.push(t1 - t0);
    firstDiagnostics.push(t2 - t1);
}

const ms = (v) => `${median(v).toFixed(0).padStart(6)} ms`;
const total = start.map((s, i) => s + firstDiagnostics[i]);
console.log(`repository: ${COMMITS} commits, ${poisons.length} poison records, 400-line file; median of ${RUNS} runs`);
console.log(`baseline  python -m git_poison_lsp --version  ${ms(probe)}`);
console.log(`baseline  git poison check (CLI)              ${ms(cli)}`);
console.log(`extension activate -> server running          ${ms(start)}   (${(median(start) / median(probe)).toFixed(1)}x the probe)`);
console.log(`extension open file -> first diagnostics      ${ms(firstDiagnostics)}   (${(median(firstDiagnostics) / median(cli)).toFixed(1)}x the CLI check)`);
console.log(`extension activate -> first diagnostics       ${ms(total)}   (${(median(total) / median(cli)).toFixed(1)}x the CLI check)`);
