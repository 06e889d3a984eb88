import {
  LineCounter as Counter,
  isMap,
  isScalar,
  type LineCounter,
  parseAllDocuments,
  type YAMLMap,
} from 'yaml';

/** Bumped on the pod template of workloads that mount a rotated Secret. */
export const ROLLOUT_ANNOTATION = 'gitops-secrets.io/rotated-at';

const PATH = ['spec', 'template', 'metadata', 'annotations'] as const;

/**
 * Sets the rollout annotation on `spec.template.metadata.annotations` of every document that has
 * a pod template, by editing the text in place: the rest of the file stays byte for byte.
 */
export function bumpRollout(
  text: string,
  value: string,
): { text: string; documents: number } | { problem: string } {
  const counter = new Counter();
  const docs = parseAllDocuments(text, { lineCounter: counter });
  if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0))
    return { problem: 'is not valid YAML' };
  // Edit from the end of the file backwards, so earlier offsets stay valid.
  const edits: { at: number; end: number; insert: string }[] = [];
  for (const doc of docs) {
    const template = doc.getIn(['spec', 'template'], true);
    if (!isMap(template)) continue;
    const edit = planEdit(text, counter, template, value);
    if (typeof edit === 'string') return { problem: edit };
    edits.push(edit);
  }
  if (edits.length === 0)
    return { problem: 'has no spec.template (not a Deployment, StatefulSet, DaemonSet or Job)' };
  let out = text;
  for (const e of edits.sort((a, b) => b.at - a.at))
    out = out.slice(0, e.at) + e.insert + out.slice(e.end);
  // Check the result says what we meant, and nothing else broke.
  const check = parseAllDocuments(out);
  if (!Array.isArray(check) || check.some((d) => d.errors.length > 0))
    return { problem: 'could not be edited safely' };
  const set = check.filter((d) => d.getIn([...PATH, ROLLOUT_ANNOTATION]) === value).length;
  if (set !== edits.length) return { problem: 'could not be edited safely' };
  return { text: out, documents: set };
}

function planEdit(text: string, counter: LineCounter, template: YAMLMap, value: string) {
  const quoted = JSON.stringify(value);
  const metadata = template.get('metadata', true);
  const lineStart = (offset: number) => text.lastIndexOf('\n', offset - 1) + 1;
  const indentOf = (offset: number) => ' '.repeat(counter.linePos(offset).col - 1);
  const firstKey = (map: YAMLMap) =>
    (map.items[0]?.key as { range?: [number, number, number] } | undefined)?.range?.[0];
  /** New lines above the line of the key at `key`, indented as that key is. */
  const above = (key: number, lines: (indent: string) => string) => {
    const start = lineStart(key);
    return { at: start, end: start, insert: lines(indentOf(key)) };
  };
  if (isMap(metadata)) {
    if (metadata.flow)
      return 'has a flow-style spec.template.metadata; write it as a block mapping';
    const annotations = metadata.get('annotations', true);
    if (isMap(annotations)) {
      if (annotations.flow) return 'has flow-style pod annotations; write them as a block mapping';
      const existing = annotations.items.find(
        (p) => isScalar(p.key) && p.key.value === ROLLOUT_ANNOTATION,
      );
      const scalar = existing?.value;
      if (isScalar(scalar) && scalar.range)
        return { at: scalar.range[0], end: scalar.range[1], insert: quoted };
      const at = firstKey(annotations);
      if (at === undefined) return 'has empty pod annotations; remove the empty key';
      return above(at, (i) => `${i}${ROLLOUT_ANNOTATION}: ${quoted}\n`);
    }
    if (annotations !== undefined) return 'has pod annotations that are not a mapping';
    const at = firstKey(metadata);
    if (at === undefined) return 'has an empty spec.template.metadata';
    return above(at, (i) => `${i}annotations:\n${i}  ${ROLLOUT_ANNOTATION}: ${quoted}\n`);
  }
  if (template.flow) return 'has a flow-style spec.template; write it as a block mapping';
  const at = firstKey(template);
  if (at === undefined) return 'has an empty spec.template';
  return above(
    at,
    (i) => `${i}metadata:\n${i}  annotations:\n${i}    ${ROLLOUT_ANNOTATION}: ${quoted}\n`,
  );
}
