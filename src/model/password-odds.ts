/**
 * How likely one candidate drawn by randomPassword (password.ts) meets the rules: the config
 * refuses rules that fewer than 1 in MAX_EXPECTED_DRAWS candidates meet, as too tight to draw
 * without bias in reasonable time. An estimate: the minimums are computed for characters drawn
 * independently, the repeat limit separately, and the two multiplied.
 */

/** Rules met by fewer than one candidate in this many are refused by the config. */
export const MAX_EXPECTED_DRAWS = 10_000;

/**
 * The chance that a candidate of `length` characters meets the rules, where `sizes[c]` is how
 * many characters of class c (lower, upper, digits, symbols) the alphabet has and `mins[c]`
 * the minimum of that class.
 */
export function acceptance(
  length: number,
  sizes: readonly number[],
  mins: readonly number[],
  maxRepeat: number | undefined,
): number {
  const total = sizes.reduce((a, b) => a + b, 0);
  return (
    minimumsOdds(
      length,
      sizes.map((k) => k / total),
      mins,
    ) * repeatOdds(length, total, maxRepeat)
  );
}

/**
 * P(every class c has at least mins[c] of `length` independent characters), class c drawn
 * with probability p[c]: the constrained classes are taken one after another, each a binomial
 * over the positions the ones before left, with its probability among the classes left.
 */
function minimumsOdds(length: number, p: readonly number[], mins: readonly number[]): number {
  const logFact = [0];
  for (let i = 1; i <= length; i++) logFact.push(logFact[i - 1]! + Math.log(i));
  // dist[r]: probability that r positions are left for the classes not yet taken.
  let dist = new Float64Array(length + 1);
  dist[length] = 1;
  let massLeft = 1;
  for (let c = 0; c < p.length; c++) {
    const m = mins[c] ?? 0;
    if (m === 0) continue;
    const q = Math.min(1, p[c]! / massLeft);
    massLeft -= p[c]!;
    const next = new Float64Array(length + 1);
    for (let r = m; r <= length; r++) {
      const w = dist[r]!;
      if (w < 1e-300) continue;
      for (let n = m; n <= r; n++) next[r - n]! += w * binomial(logFact, r, n, q);
    }
    dist = next;
  }
  return dist.reduce((a, b) => a + b, 0);
}

function binomial(logFact: number[], r: number, n: number, q: number): number {
  if (q >= 1) return n === r ? 1 : 0;
  if (q <= 0) return n === 0 ? 1 : 0;
  return Math.exp(
    logFact[r]! - logFact[n]! - logFact[r - n]! + n * Math.log(q) + (r - n) * Math.log1p(-q),
  );
}

/**
 * P(no run longer than maxRepeat) for `length` uniform characters of an alphabet of `size`.
 * With maxRepeat 1 the candidate is drawn free of repeats already: 1.
 */
function repeatOdds(length: number, size: number, maxRepeat: number | undefined): number {
  if (maxRepeat === undefined || maxRepeat === 1 || maxRepeat >= length) return 1;
  // run[j]: probability that the string so far meets the limit and ends in a run of j + 1.
  let run = new Float64Array(maxRepeat);
  run[0] = 1;
  for (let i = 1; i < length; i++) {
    const next = new Float64Array(maxRepeat);
    let alive = 0;
    for (let j = 0; j < maxRepeat; j++) alive += run[j]!;
    next[0] = (alive * (size - 1)) / size;
    for (let j = 1; j < maxRepeat; j++) next[j] = run[j - 1]! / size;
    run = next;
  }
  return run.reduce((a, b) => a + b, 0);
}
