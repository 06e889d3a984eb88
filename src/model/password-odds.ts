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

/** Probabilities below this are dropped: far below the 1 in MAX_EXPECTED_DRAWS that matters. */
const NEGLIGIBLE = 1e-30;

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
      if (w >= NEGLIGIBLE) spread(next, w, r, m, q, logFact);
    }
    dist = next;
  }
  return dist.reduce((a, b) => a + b, 0);
}

/**
 * Adds w × P(Binomial(r, q) = n) to out[r - n] for every n >= m, walking out from the likeliest
 * n and stopping where the terms become negligible (a binomial's mass lies within a few
 * standard deviations of its mode): linear in that spread, not in r.
 */
function spread(out: Float64Array, w: number, r: number, m: number, q: number, logFact: number[]) {
  if (q >= 1) {
    out[0]! += w;
    return;
  }
  if (q <= 0) return; // n >= m >= 1 characters of a class with none: never
  const odds = q / (1 - q);
  const start = Math.max(m, Math.min(r, Math.floor((r + 1) * q)));
  const first =
    w *
    Math.exp(
      logFact[r]! -
        logFact[start]! -
        logFact[r - start]! +
        start * Math.log(q) +
        (r - start) * Math.log1p(-q),
    );
  let term = first;
  for (let n = start; n <= r && term >= NEGLIGIBLE ** 2; n++) {
    out[r - n]! += term;
    term *= ((r - n) / (n + 1)) * odds;
  }
  term = first;
  for (let n = start - 1; n >= m && term >= NEGLIGIBLE ** 2; n--) {
    term *= (n + 1) / ((r - n) * odds);
    out[r - n]! += term;
  }
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
