/**
 * The layering rules (issue 19): no import cycles; the pure layers (config, model, plan) import
 * nothing from ports, apply or commands; nothing imports node:child_process (execa and simple-git
 * start every process). Run by `npm test` (scripts/test.sh) through `npm run depcruise`.
 */
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
      comment: 'config, model and plan are pure: no ports, apply or commands.',
      from: { path: '^src/(config|model|plan)/' },
      to: { path: '^src/(ports|apply|commands)/|^src/cli\\.ts$' },
    },
    {
      name: 'no-child-process',
      severity: 'error',
      comment: 'Processes start through execa (sops, age) or simple-git (git).',
      from: { path: '^src/' },
      to: { path: '^(node:)?child_process$', dependencyTypes: ['core'] },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'A module nothing imports is dead code.',
      from: { orphan: true, path: '^src/', pathNot: '^src/(cli|action)\\.ts$|\\.d\\.ts$' },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
