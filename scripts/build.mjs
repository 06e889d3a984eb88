// Builds dist/cli.js: the CLI and its dependencies bundled by esbuild into one script, so that
// the published package needs no node_modules of its own. Type checking is tsc's job
// (`npm run typecheck`); this only bundles.
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

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
// The GitHub Action (action.yml runs dist/action/index.js, committed: nothing is built or
// installed when it runs): the Action's logic, the CLI's commands and every dependency
// (@actions/* included) in one file, without a source map. Built from the repository root so
// that the bundle is the same byte for byte wherever it is built (test/action-dist.test.ts).
await build({
  entryPoints: [join(root, 'src/action/index.ts')],
  outfile: join(dist, 'action/index.js'),
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
});
// The package is "type": "module"; dist/ holds CommonJS.
writeFileSync(join(dist, 'package.json'), '{ "type": "commonjs" }\n');
// Committed with the bundle: a checkout of the Action has no other dist/package.json.
writeFileSync(join(dist, 'action/package.json'), '{ "type": "commonjs" }\n');
chmodSync(cli, 0o755);
