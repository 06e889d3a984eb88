// Preloaded into the CLI by the benchmark (`node --require`, CommonJS like the CLI itself, so
// that measuring starts no ESM loader the CLI does not start): at exit, writes the peak resident
// set size of this process (getrusage ru_maxrss, in KiB) and its own CPU time (user and system,
// in microseconds) to $BENCH_RSS_FILE.
'use strict';
const { writeFileSync } = require('node:fs');

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(file, `${usage.maxRSS} ${usage.userCPUTime} ${usage.systemCPUTime}`);
  });
}
