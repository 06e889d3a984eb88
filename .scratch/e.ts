import { parseDocument } from 'yaml';
for (const t of ['a: 1\nb: 2\na: 3\n', 'k:\n  "x y": 1\n  x y: 2\n', 'k: { a: 1, a: 2 }\n']) {
  const d = parseDocument(t, { prettyErrors: false, uniqueKeys: true });
  for (const e of d.errors) console.log(e.code, e.pos, JSON.stringify(t.slice(e.pos[0], e.pos[1])), e.message);
}
