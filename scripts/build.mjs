// Builds dist/cli.js: the CLI and its dependencies bundled by esbuild into one script, so that
// the published package needs no node_modules of its own. Type checking is tsc's job
// (`npm run typecheck`); this only bundles.
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { actionBundle } from './action-bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const cli = join(dist, 'cli.js');
rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'src/cli.ts')],
  outfile: cli,
  bundle: true,
  platform: 'node',
  // CommonJS: some dependencies (simple-git's helpers) call require(), which an ES module bundle
  // does not have.
  format: 'cjs',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // src/cli.ts finds package.json (its version) through import.meta.url, which CommonJS spells
  // through __filename.
  define: { 'import.meta.url': '__cliUrl' },
  banner: { js: "const __cliUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// The GitHub Action's bundle (committed; scripts/action-bundle.mjs says why and how).
await build(actionBundle(root));
// The package is "type": "module"; dist/ holds CommonJS.
writeFileSync(join(dist, 'package.json'), '{ "type": "commonjs" }\n');
// Committed with the bundle: a checkout of the Action has no other dist/package.json.
writeFileSync(join(dist, 'action/package.json'), '{ "type": "commonjs" }\n');
chmodSync(cli, 0o755);
