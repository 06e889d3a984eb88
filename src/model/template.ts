/**
 * The value templates of derived keys: text with `{{ NAME | filter ... }}` references, and
 * nothing else (no expressions, no code). Plain text is not secret; values only fill the holes.
 */

const FILTERS = ['urlencode', 'base64', 'json'] as const;
export type Filter = (typeof FILTERS)[number];

export type TemplatePart = { text: string } | { ref: string; filters: Filter[] };

const HOLE_RE = /\{\{(.*?)\}\}/gs;
const REF_RE = /^(shared\.)?[-._a-zA-Z0-9]+$/;

/** The parts of a template, or what is wrong with it (no value is ever part of the message). */
export function parseTemplate(text: string): { parts: TemplatePart[] } | { error: string } {
  const parts: TemplatePart[] = [];
  let at = 0;
  for (const m of text.matchAll(HOLE_RE)) {
    if (m.index > at) parts.push({ text: text.slice(at, m.index) });
    const [name, ...filters] = m[1]!.split('|').map((s) => s.trim());
    if (!name || !REF_RE.test(name))
      return {
        error: `"{{${m[1]}}}" must name a key of this Secret or shared.NAME, e.g. {{ DB_PASSWORD | urlencode }}`,
      };
    for (const f of filters)
      if (!(FILTERS as readonly string[]).includes(f))
        return { error: `unknown filter "${f}" in "{{${m[1]}}}"; filters: ${FILTERS.join(', ')}` };
    parts.push({ ref: name, filters: filters as Filter[] });
    at = m.index + m[0].length;
  }
  const rest = text.slice(at);
  if (rest.includes('{{')) return { error: 'has a "{{" without its "}}"' };
  if (rest) parts.push({ text: rest });
  return { parts };
}

/**
 * Percent-encodes all but RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~): correct in the
 * userinfo of a URL, a path segment and a query value alike.
 */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function applyFilter(filter: Filter, value: string): string {
  switch (filter) {
    case 'urlencode':
      return percentEncode(value);
    case 'base64':
      return Buffer.from(value, 'utf8').toString('base64');
    case 'json':
      return JSON.stringify(value);
  }
}

/** The template with each reference replaced by its value, passed through its filters. */
export function renderTemplate(parts: TemplatePart[], lookup: (ref: string) => string): string {
  return parts
    .map((p) =>
      'text' in p ? p.text : p.filters.reduce((v, f) => applyFilter(f, v), lookup(p.ref)),
    )
    .join('');
}
