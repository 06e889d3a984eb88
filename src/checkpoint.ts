import { writeFileSync } from 'node:fs';

/** The steps of a job at which the crash tests kill the process. */
export type Step = 'planned' | 'applied' | 'committed' | 'pushed' | 'pull-request';

/**
 * Fault injection for the crash tests: with GITOPS_SECRETS_TEST_KILL_AT=<step> the process
 * kills itself with SIGKILL at that step, as a power cut would. Does nothing otherwise.
 */
export function checkpoint(step: Step): void {
  if (process.env.GITOPS_SECRETS_TEST_KILL_AT === step) process.kill(process.pid, 'SIGKILL');
}

/** The moments at which a test can hold a run (to kill its whole process group there). */
export type HoldPoint = 'cleanup';

/**
 * Fault injection for the process-group crash tests: with GITOPS_SECRETS_TEST_HOLD_AT=<point>
 * the run writes its pid to GITOPS_SECRETS_TEST_HOLD_FILE at that point and waits (at most two
 * minutes) for the test to kill it. Resolves at once otherwise.
 */
export async function hold(point: HoldPoint): Promise<void> {
  const file = process.env.GITOPS_SECRETS_TEST_HOLD_FILE;
  if (process.env.GITOPS_SECRETS_TEST_HOLD_AT !== point || !file) return;
  writeFileSync(file, `${process.pid}\n`);
  await new Promise((resolve) => setTimeout(resolve, 120_000));
}
