// The Action's entry point (dist/action/index.js); the logic is in main.ts, where
// @github/local-action finds its `run`.
import { run } from './main.js';

void run();
