let collator: Intl.Collator | undefined;

/**
 * The order rows, keys and paths are shown in (PR tables, commit messages, `check`): English
 * collation, whatever the machine's locale (a runner's C.UTF-8 and a laptop's da_DK would
 * otherwise order "aa" differently); texts the collator finds equal fall back to code-unit order,
 * so the order is total.
 */
export function compareText(a: string, b: string): number {
  collator ??= new Intl.Collator('en');
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}
