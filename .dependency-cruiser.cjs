/**
 * The layering rules (issue 19), checked by `npm test` (test/structure.test.ts runs
 * `npm run depcruise`):
 *
 *   cli → commands → apply → ports (execa, simple-git, Octokit)
 *                      ↓
 *                    plan → model, config   (pure: no processes, no network, no ports)
 *
 * - no import cycles;
 * - config, model and plan import nothing from ports, apply, commands or the cli;
 * - model and plan do no I/O (no fs, os, net, http, processes, checkpoint or terminal output);
 * - config and model do not import the planner;
 * - execa, simple-git and Octokit are imported in src/ports/ only (their errors become the
 *   project's there); nothing imports node:child_process; js-yaml is gone (`yaml` reads all);
 * - every module is reachable from src/cli.ts or src/action/index.ts, the GitHub Action's entry
 *   (a module neither loads is dead code).
 */
const FOREIGN = '^node_modules/(execa|simple-git|@octokit)/';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle makes the layers impossible to read one at a time.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'pure-layers-stay-pure',
      severity: 'error',
      comment: 'config, model and plan are pure: no ports, apply, commands or cli.',
      from: { path: '^src/(config|model|plan)/' },
      to: { path: '^src/(ports|apply|commands)/|^src/cli\\.ts$' },
    },
    {
      name: 'model-and-plan-do-no-io',
      severity: 'error',
      comment:
        'model and plan touch no file, network, process or terminal (config reads its one file); time and randomness come in as inputs.',
      from: { path: '^src/(model|plan)/' },
      to: {
        path: '^(node:)?(fs|fs/promises|os|net|http|https|child_process|worker_threads)$|^src/(checkpoint|format)\\.ts$',
      },
    },
    {
      name: 'plan-on-top-of-model',
      severity: 'error',
      comment: 'The planner uses config and model; they never use the planner.',
      from: { path: '^src/(config|model)/' },
      to: { path: '^src/plan/' },
    },
    {
      name: 'foreign-libraries-in-ports',
      severity: 'error',
      comment:
        'execa, simple-git and Octokit are used in src/ports/ only; their errors become the project errors (src/errors.ts) there.',
      from: { path: '^src/', pathNot: '^src/ports/' },
      to: { path: FOREIGN },
    },
    {
      name: 'no-child-process',
      severity: 'error',
      comment: 'Processes start through execa (sops, age) or simple-git (git).',
      from: { path: '^src/' },
      to: { path: '^(node:)?child_process$', dependencyTypes: ['core'] },
    },
    {
      name: 'one-yaml-library',
      severity: 'error',
      comment: 'The `yaml` package reads and writes every YAML file.',
      from: { path: '^src/' },
      to: { path: '^node_modules/js-yaml/' },
    },
    {
      name: 'reachable-from-the-cli',
      severity: 'error',
      comment:
        'A module neither src/cli.ts nor the Action (src/action/index.ts) loads, directly or through others, is dead code. (The "orphan" rule of dependency-cruiser misses dead modules that import something.)',
      from: { path: '^src/(cli|action/index)\\.ts$' },
      to: { path: '^src/', pathNot: '\\.d\\.ts$|^src/(cli|action/index)\\.ts$', reachable: false },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
