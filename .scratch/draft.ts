import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { parseDocument } from 'yaml';
import { parseConfig } from '../src/config/load.ts';
const schema = JSON.parse(readFileSync('config/schema.json', 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: true });
(addFormats as any)(ajv);
const validate = ajv.compile(schema);
const dir = 'fixtures/configs/invalid';
const out: Record<string, unknown> = {};
for (const f of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
  const text = readFileSync(`${dir}/${f}`, 'utf8');
  const r = parseConfig(text, f);
  const doc = parseDocument(text, { uniqueKeys: true, strict: true });
  let kind: string;
  if (doc.errors.length || doc.warnings.length) kind = 'yaml';
  else {
    let data: unknown;
    try { data = doc.toJS({ maxAliasCount: 100 }); } catch { data = Symbol.for('x'); }
    if (typeof data === 'symbol') kind = 'yaml';
    else kind = validate(data) ? 'rule' : 'schema';
  }
  const cut = (m: string) => m.includes(', not ') || m.startsWith('is required;') ? m : m.split('; ')[0]!.split(' (')[0]!;
  out[f] = { kind, problems: r.problems.map((p) => ({ line: p.line, column: p.column, path: p.path, messageIncludes: cut(p.message) })) };
}
writeFileSync('/tmp/expected-draft.json', JSON.stringify(out, null, 2) + '\n');
for (const [f, v] of Object.entries(out)) console.log((v as any).kind.padEnd(7), f, JSON.stringify((v as any).problems.map((p: any) => p.messageIncludes)));
