/**
 * Config text in the PR body and the commit message is inert: a description, a restart command,
 * a rollout path or a shared name cannot add HTML, mentions, issue links, links or headings to
 * the PR, nor break its table or lists, nor add lines to the commit message.
 */
import test from 'ava';
import MarkdownIt from 'markdown-it';
import { parseConfig } from '../src/config/parse.js';
import type { Config } from '../src/config/types.js';
import { codeSpan, inlineText } from '../src/plan/markdown.js';
import { plan } from '../src/plan/plan.js';
import { pullRequestBody } from '../src/plan/pr-body.js';
import {
  type ChangeRow,
  changeRows,
  commitMessage,
  commitSubject,
  JOB_TRAILER,
} from '../src/plan/summary.js';

const HTML = '</details><img src=x onerror=alert(1)><script>alert(2)</script>';

// Every hostile text in one config: YAML double quotes carry the newlines and backslashes.
const HOSTILE = `version: 1
shared:
  "db_pass.x": { provided: true, description: "@everyone ${HTML} [l](https://evil)" }
secrets:
  - name: web
    namespace: shop
    restart: "kubectl \`rollout\` restart ${HTML}\\n# Heading\\n| x | y |\\n@everyone #1 \`\`\`"
    rollout: ["apps/\`x\`|y.yaml", "a\\n# Heading <img src=x>"]
    labels: { team: "@everyone" }
    annotations: { note: "${HTML}" }
    keys:
      TOKEN_a.b: { provided: true, description: "${HTML} @everyone #1" }
      HEAD: { provided: true, description: "x\\n# Heading\\n\\n[link](https://evil) **b** _i_" }
      TICKS: { provided: true, description: "a \`b\` \`\`c\`\` | d | e \\\\| f\\r\\n- item" }
      URL: { provided: true, description: "see https://evil.example/x and www.evil.example @org/team" }
      DB: { from: "db_pass.x" }
      GEN: { length: 20 }
`;

function config(text: string): Config {
  const r = parseConfig(text, 'config/secrets.yaml');
  if (!r.config) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

const cfg = config(HOSTILE);
const p = plan({ config: cfg, job: 'sync', existing: new Map(), now: new Date('2026-01-01') });
const rows = changeRows(p, new Map(), new Map());
const body = pullRequestBody({ job: 'sync', base: 'main', rows, config: cfg });

/** The rendered HTML without what is inside code spans (text there is shown, never live). */
function outsideCode(html: string): string {
  return html.replace(/<code>[\s\S]*?<\/code>/g, '<code></code>');
}

const renderers = {
  'html: false': new MarkdownIt({ html: false }),
  'html: true': new MarkdownIt({ html: true }),
  'html: true, linkify': new MarkdownIt({ html: true, linkify: true }),
};

for (const [name, md] of Object.entries(renderers)) {
  test(`hostile config text renders inert (${name})`, (t) => {
    const html = md.render(body);
    const live = outsideCode(html);
    for (const element of ['<img', '<script', '</details>', '<details'])
      t.false(live.includes(element), `no ${element} element from config text`);
    t.false(/@everyone|@org/.test(live), 'mentions only inside code spans');
    t.false(/#1\b/.test(live), 'no issue reference outside code spans');
    t.false(live.includes('<a '), 'no link from config text');
    t.false(/<(strong|em)>/.test(live), 'no emphasis from config text');
    const headings = [...html.matchAll(/<h(\d)>([\s\S]*?)<\/h\1>/g)].map((m) => m[2]);
    t.deepEqual(headings, [
      'gitops-secrets sync',
      'Restart after merge',
      'Needs input from a person',
      'Reviewer checklist',
    ]);
    t.is((html.match(/<tr>/g) ?? []).length, rows.length + 1, 'a table row per change');
    t.is((html.match(/<td[ >]/g) ?? []).length, rows.length * 4, 'four cells per row');
    const needs = rows.filter((r) => r.action === 'needs input').length;
    const listItems = (html.match(/<li>/g) ?? []).length;
    // One restart line, one line per slot to fill, the checklist (3 items for sync).
    t.is(listItems, 1 + needs + 3, 'list items are not split or added');
  });
}

test('config text in code spans is shown as written (newlines as spaces)', (t) => {
  const html = new MarkdownIt({ html: true }).render(body);
  const restart = cfg.secrets[0]!.restart!.replace(/\r\n?|\n/g, ' ');
  const escaped = restart.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  t.true(html.includes(`<code>${escaped.replace(/"/g, '&quot;')}</code>`), html);
});

test('descriptions outside code spans read as written once rendered', (t) => {
  const html = new MarkdownIt({ html: false }).render(body);
  const text = html
    .replace(/<[^>]+>/g, '')
    .replace(/\u200b/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
  t.true(text.includes('[link](https://evil) **b** _i_'), text);
  t.true(text.includes(`${HTML} @everyone #1`));
});

test('rollout paths from the config stay in their list item, in code spans', (t) => {
  const rotated: ChangeRow[] = [
    { id: 'shop/web', path: 'p', key: 'GEN', action: 'rotated', reason: 'forced' },
  ];
  const html = new MarkdownIt({ html: true }).render(
    pullRequestBody({ job: 'rotate', base: 'main', rows: rotated, config: cfg }),
  );
  const live = outsideCode(html);
  t.false(/<img|<h1|<h2>#/.test(live));
  t.true(html.includes('<li><code>shop/web</code>: <code>apps/`x`|y.yaml</code>, <code>'), html);
});

test('code spans and escaped text: fences, padding, pipes in cells', (t) => {
  const md = new MarkdownIt();
  const inline = (s: string) => md.renderInline(s);
  t.is(inline(codeSpan('`a`')), '<code>`a`</code>');
  t.is(inline(codeSpan(' a')), '<code> a</code>');
  t.is(inline(codeSpan('a ``` b')), '<code>a ``` b</code>');
  t.is(codeSpan('a|b', true), '`a\\|b`');
  t.is(inline(inlineText('*a* _b_ [c](d) <e> &amp; \\')), '*a* _b_ [c](d) &lt;e&gt; &amp;amp; \\');
  const table = (cell: string) => md.render(`| a | b |\n| --- | --- |\n| ${cell} | x |\n`);
  for (const text of ['a|b', 'a\\|b', '\\', 'a\\'])
    t.is((table(codeSpan(text, true)).match(/<td>/g) ?? []).length, 2, text);
});

test('the commit message is one subject line and the trailer, whatever the rows hold', (t) => {
  const message = commitMessage('sync', rows);
  t.deepEqual(message.split('\n'), [commitSubject('sync', rows), '', `${JOB_TRAILER}: sync`, '']);
  // Ids are DNS names once the config is valid; the message does not rely on it.
  const forged: ChangeRow[] = [
    {
      id: `a/b\n\n${JOB_TRAILER}: rotate\r\nSigned-off-by: x`,
      path: 'p',
      key: 'k\nX',
      action: 'generated',
      reason: 'r\n\nbody',
    },
  ];
  const lines = commitMessage('sync', forged).split('\n');
  t.is(lines.length, 4, lines.join('⏎'));
  t.is(lines[2], `${JOB_TRAILER}: sync`);
  t.false(/[\r\u2028\u2029]/.test(lines[0]!));
});

test('commit message: carried files one line each, above the trailer, whatever their path holds', (t) => {
  const rows: ChangeRow[] = [
    { id: 'a/b', path: 'p', key: 'k', action: 'generated', reason: 'missing' },
  ];
  const carried = [
    { path: 'config/secrets.yaml', kind: 'config changed' },
    { path: `.sops.yaml\n\n${JOB_TRAILER}: rotate`, kind: 'recipients added' },
  ];
  const lines = commitMessage('sync', rows, [], carried).split('\n');
  t.is(lines[2], 'config/secrets.yaml: config changed (carried from the working copy)');
  t.regex(lines[3]!, /^\.sops\.yaml .* recipients added \(carried from the working copy\)$/);
  t.is(lines.length, 7, lines.join('⏎'));
  t.is(lines[5], `${JOB_TRAILER}: sync`);
});
