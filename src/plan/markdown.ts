// Text from the config (descriptions, restart commands, paths, names) shown in a PR body on
// GitHub: it must render as the text it is, never as HTML, a mention, an issue reference, a link,
// emphasis or a heading, and never leave the table cell or list item it is in.

/** Line breaks (any of them, for Markdown or for a reader) and other control characters. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters it looks for
const BREAKS = /\r\n|[\u0000-\u0008\u000a-\u001f\u007f\u0085\u2028\u2029]/g;

/** One line: every line break and control character becomes a space. */
export function oneLine(text: string): string {
  return text.replace(BREAKS, ' ');
}

const ZWSP = '\u200b';
const ESCAPES: Record<string, string> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  // A zero-width space after them: GitHub links `@name`, `#1` and `org/repo#1` in rendered text,
  // whatever the Markdown source spelled them as (`\@` and `&#64;` are both an `@` once rendered).
  '@': `@${ZWSP}`,
  '#': `\\#${ZWSP}`,
};

/**
 * Text outside code spans, in a table cell or a list item: ASCII punctuation that Markdown or
 * GitHub's extensions read (emphasis, links and autolinks, images, code, strikethrough, math,
 * tables) is escaped with a backslash, `<`, `>` and `&` become entities, `@` and `#` are followed
 * by a zero-width space. It renders as the text it was, on one line.
 */
export function inlineText(text: string): string {
  return (
    oneLine(text)
      .replace(/[\\`*[\]()!~|{}$^<>&@#]|:(?=\/\/)/g, (c) => ESCAPES[c] ?? `\\${c}`)
      // `_` between letters or digits (a key name) neither opens nor closes emphasis.
      .replace(/(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, '\\_')
      // Autolinks: `https://…` is escaped above, `www.…` here (`a@b.c` lost its `@`).
      .replace(/\b(www)\./gi, '$1\\.')
  );
}

/**
 * A code span showing `text` as written (line breaks as spaces): its fence is one backtick longer
 * than the longest run of backticks inside, and a space pads text that starts or ends with a
 * backtick or a space (CommonMark strips one space from each side). In a table cell (`cell`),
 * `|` is escaped: GitHub reads `\|` as a `|` even inside a code span there, and a bare one ends
 * the cell. (A `\|` in the text would then be `\\|`, which cmark-gfm splits the cell at: such text
 * is shown escaped instead of in a code span.)
 */
export function codeSpan(text: string, cell = false): string {
  let body = oneLine(text);
  if (cell) {
    if (body.includes('\\|')) return inlineText(body);
    body = body.replace(/\|/g, '\\|');
  }
  let longest = 0;
  for (const run of body.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = '`'.repeat(longest + 1);
  const pad = /^[` ]|[` ]$/.test(body) ? ' ' : '';
  return `${fence}${pad}${body}${pad}${fence}`;
}
