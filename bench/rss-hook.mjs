// Preloaded into the CLI by the benchmark (`node --import`): at exit, writes the peak resident
// set size of this process (getrusage ru_maxrss, in KiB) to $BENCH_RSS_FILE.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    writeFileSync(file, String(process.resourceUsage().maxRSS));
  });
}
