// Builds dist/cli.js: the CLI and its dependencies bundled into one ES module, plus a chunk for
// what only some runs need (Octokit, loaded when a pull request is opened or updated). One file
// loads in about half the time of ~400 separate modules, and every run (a no-op sync above all)
// pays that start-up time. Type checking is tsc's job (`npm run typecheck`); this only bundles.
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await rm(join(root, 'dist'), { recursive: true, force: true });
// zod's translations of its error messages (40 languages, a third of the bundle): the config
// errors are the tool's own English sentences, so only zod's English default (which zod imports
// by itself) is kept.
const zodLocales = {
  name: 'zod-locales',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'stub' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};
await build({
  entryPoints: [join(root, 'src/cli.ts')],
  outdir: join(root, 'dist'),
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [zodLocales],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  // Bundled CommonJS dependencies (commander, among others) call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __gitopsSecretsRequire } from 'node:module';\nconst require = __gitopsSecretsRequire(import.meta.url);",
  },
});
