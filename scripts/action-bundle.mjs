// The esbuild options of the GitHub Action's bundle, dist/action/index.js (action.yml runs it;
// it is committed: nothing is built or installed when the Action runs). scripts/build.mjs builds
// it; test/action-dist.test.ts builds it again in memory and compares it with the committed one.
import { join } from 'node:path';

/** The Action's logic, the CLI's commands and every dependency in one CommonJS file, no map. */
export function actionBundle(root) {
  return {
    entryPoints: [join(root, 'src/action/index.ts')],
    outfile: join(root, 'dist/action/index.js'),
    // Paths in the bundle's comments are relative to this: the same bytes wherever it is built.
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  };
}
