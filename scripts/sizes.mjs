#!/usr/bin/env node
// Prints every file in src/ over 300 lines and every function over 80 lines (a function's nested
// closures count as part of it: a factory that returns closures is one function). Exit 1 when
// there is one. Used by test/structure.test.ts.
//
//   node scripts/sizes.mjs [DIR]     # DIR defaults to src/
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const MAX_FILE = 300;
const MAX_FUNCTION = 80;
const dir = resolve(process.argv[2] ?? join(import.meta.dirname, '../src'));
const root = dirname(dir);
const walk = (d) =>
  readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    if (statSync(p).isDirectory()) return walk(p);
    return p.endsWith('.ts') ? [p] : [];
  });

const offenders = [];
for (const file of walk(dir)) {
  const name = relative(root, file);
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_FILE) offenders.push(`${name}: ${lines} lines (at most ${MAX_FILE})`);
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const lineOf = (pos) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node, inFunction) => {
    const isFunction = ts.isFunctionLike(node) && 'body' in node && node.body !== undefined;
    if (isFunction && !inFunction) {
      const start = lineOf(node.getStart(source));
      const length = lineOf(node.end) - start + 1;
      const label = node.name ? node.name.getText(source) : '(anonymous)';
      if (length > MAX_FUNCTION)
        offenders.push(
          `${name}:${start}: function ${label} is ${length} lines (at most ${MAX_FUNCTION})`,
        );
    }
    ts.forEachChild(node, (child) => visit(child, inFunction || isFunction));
  };
  visit(source, false);
}
for (const line of offenders) console.log(line);
process.exitCode = offenders.length > 0 ? 1 : 0;
