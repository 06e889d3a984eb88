import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/**
 * A Node built-in loaded when first used, not when the CLI starts: `node:crypto` (only runs
 * that generate values need it) and `node:worker_threads` (only `check` and `list`) cost 1-4 ms
 * each to load, which every other run would pay.
 */
export function lazyBuiltin<T>(id: 'node:crypto' | 'node:worker_threads'): () => T {
  let module: T | undefined;
  return () => {
    module ??= load(id) as T;
    return module;
  };
}
