/** The config of the unit tests of the planner and the apply step (test/plan-unit, apply-unit). */
import { parseConfig } from '../../src/config/parse.js';
import type { Config } from '../../src/config/types.js';

/** The age recipient the config names. */
export const SHOP_RECIPIENT = 'age17qedulsl98xzye6ugztw20ae8dmw67ywzx5vcd7xkmv4gyy7zcqqe863nf';

/**
 * Two Secrets of namespace shop that share the value db: api (DB from db, the provided TOKEN,
 * and KEY as `key` defines it) and worker (DB_PASSWORD from db), encrypted for SHOP_RECIPIENT;
 * `settings`: more top-level lines (each ending in a newline). A config with problems throws.
 */
export function shopConfig(key: string, settings = ''): Config {
  const text = `version: 1
sops: { age: [${SHOP_RECIPIENT}] }
${settings}shared:
  db: { length: 40 }
secrets:
  - name: api
    namespace: shop
    keys:
      DB: { from: db }
      TOKEN: { provided: true, description: the payment token }
      KEY: ${key}
  - name: worker
    namespace: shop
    keys:
      DB_PASSWORD: { from: db }
`;
  const r = parseConfig(text, 'config/secrets.yaml');
  if (!r.config) throw new Error(JSON.stringify(r.problems));
  return r.config;
}
