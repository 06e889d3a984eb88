import test from 'ava';
import { parseConfig } from '../src/config/parse.js';
import { ConfigError, type ConfigProblem, formatProblem } from '../src/errors.js';
import { readSopsYaml } from '../src/model/sops-yaml.js';
import { checkSopsYaml } from '../src/model/sops-yaml-check.js';

const config = `version: 1
output: secrets/{namespace}/{name}.yaml
secrets:
  - name: first
    namespace: a
    keys: { k: {} }
  - name: second
    namespace: b
    keys: { k: {} }
`;

// The first secret's file matches the second rule, the second's the first rule: both rules
// would leave values unencrypted.
const sopsYaml = `creation_rules:
  - path_regex: ^secrets/b/
    age: age1qqqq
    encrypted_regex: ^metadata$
  - path_regex: ^secrets/a/
    age: age1qqqq
    unencrypted_regex: ^data$
`;

test('.sops.yaml problems are reported in file order, whatever order the secrets meet the rules', (t) => {
  const parsed = parseConfig(config, 'secrets.yaml');
  if (!parsed.config) return t.fail(parsed.problems.map(formatProblem).join('\n'));
  const { problems } = checkSopsYaml(parsed.config, readSopsYaml(sopsYaml));
  t.is(problems.length, 2);
  const error = new ConfigError(problems);
  t.deepEqual(
    error.problems.map((p) => `${p.file}:${p.line}`),
    ['.sops.yaml:4', '.sops.yaml:7'],
    error.message,
  );
  const lines = error.message.split('\n').slice(1);
  t.regex(lines[0] ?? '', /^\.sops\.yaml:4:/);
  t.regex(lines[1] ?? '', /^\.sops\.yaml:7:/);
});

test('a config error lists its problems by file, line and column', (t) => {
  const p = (file: string, line: number, column: number): ConfigProblem => ({
    file,
    line,
    column,
    path: 'x',
    message: `${file} ${line} ${column}`,
  });
  const error = new ConfigError([
    p('secrets.yaml', 9, 1),
    p('.sops.yaml', 2, 5),
    p('secrets.yaml', 3, 7),
    p('secrets.yaml', 3, 2),
  ]);
  t.deepEqual(
    error.problems.map((x) => x.message),
    ['.sops.yaml 2 5', 'secrets.yaml 3 2', 'secrets.yaml 3 7', 'secrets.yaml 9 1'],
  );
  t.true(error.message.startsWith('4 problems in config:\n.sops.yaml:2:5: '));
});

test('schema and rule problems of one config come together, sorted by position', (t) => {
  const text = `version: 1
output: secrets/{namespace}/{name}.yaml
secrets:
  - name: app
    namespace: default
    keys:
      token: { from: nope }
      password: { length: 0 }
`;
  const { problems } = parseConfig(text, 'secrets.yaml');
  t.deepEqual(
    problems.map((p) => `${p.line}:${p.column} ${p.path}`),
    ['7:22 secrets[0].keys.token.from', '8:27 secrets[0].keys.password.length'],
    problems.map(formatProblem).join('\n'),
  );
  t.regex(problems[0]?.message ?? '', /no shared value "nope"/);
  t.regex(problems[1]?.message ?? '', /whole number from 1 to 4096/);
});
