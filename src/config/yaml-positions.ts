import { type Document, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';
import type { FieldPath } from './report.js';

/**
 * Finds the line and column of a field in a parsed document. With `key`, points at the key of
 * the last segment (for unknown or misnamed keys); otherwise at its value. Falls back to the
 * nearest existing parent, so a missing field points at the object that lacks it.
 */
export function positionOf(
  doc: Document,
  counter: LineCounter,
  path: FieldPath,
  options: { key?: boolean } = {},
): { line: number; column: number } {
  let node: unknown = doc.contents;
  let best: number = rangeStart(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    const part = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      // Keys like `1:` or `true:` are scalars of other types; paths hold them as strings.
      const pair = node.items.find(
        (p) => isScalar(p.key) && p.key.value !== null && String(p.key.value) === String(part),
      );
      if (!pair) break;
      if (last && options.key) {
        best = rangeStart(pair.key) ?? best;
        break;
      }
      node = pair.value;
      best = rangeStart(node) ?? rangeStart(pair.key) ?? best;
    } else if (isSeq(node) && typeof part === 'number') {
      node = node.items[part];
      if (node === undefined) break;
      best = rangeStart(node) ?? best;
    } else {
      break;
    }
  }
  const pos = counter.linePos(best);
  return { line: pos.line, column: pos.col };
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? range[0] : undefined;
}
