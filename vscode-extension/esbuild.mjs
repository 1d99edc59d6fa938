// Bundles the extension and its one runtime dependency (vscode-languageclient) into
// dist/extension.js, so the .vsix ships no node_modules and packaging needs no network.
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');

await esbuild.build({
    entryPoints: ['src/extension.ts'],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node18',
    outfile: 'dist/extension.js',
    // Provided by the editor at run time (and by the stand-in in the tests).
    external: ['vscode'],
    minify: production,
    sourcemap: !production,
    sourcesContent: false,
    logLevel: 'warning',
});
