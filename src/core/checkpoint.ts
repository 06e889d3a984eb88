/** The steps of a job at which the crash tests kill the process. */
export type Step = 'planned' | 'applied' | 'committed' | 'pushed' | 'pull-request';

/**
 * Fault injection for the crash tests: with GITOPS_SECRETS_TEST_KILL_AT=<step> the process
 * kills itself with SIGKILL at that step, as a power cut would. Does nothing otherwise.
 */
export function checkpoint(step: Step): void {
  if (process.env.GITOPS_SECRETS_TEST_KILL_AT === step) process.kill(process.pid, 'SIGKILL');
}
