/** Config text and fixtures shared by the tests that build plans or runs from small configs and manifests. */
import { parseConfig } from '../../src/config/parse.js';
import type { Config } from '../../src/config/types.js';
import type { ManifestInfo, ManifestState } from '../../src/model/manifest.js';

export const NEW = 'age17qedulsl98xzye6ugztw20ae8dmw67ywzx5vcd7xkmv4gyy7zcqqe863nf';
export const OLD = 'age173k90tk8j8qnyrjrpz7q9sqkl43s0en3e9asl83clkzm03345f2q7pma59';
export const T0 = '2026-01-01T00:00:00Z';

/** The head of a config whose runs open a labelled PR with a reviewer; the rest follows it. */
export const PR_CONFIG_HEAD = `version: 1
output: secrets/{namespace}/{name}.yaml
pullRequest:
  labels: [secrets]
  reviewers: [alice]
`;

/** A config parsed from its text; a problem fails the test. */
export function config(text: string): Config {
  const r = parseConfig(text, 'config/secrets.yaml');
  if (!r.config) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

/** The keptn bridge-oauth and renku analytics secrets, the API token described as given. */
export function keptnSecrets(apiTokenDescription = 'Token for the analytics API'): string {
  return `secrets:
  - name: bridge-oauth
    namespace: keptn
    restart: kubectl delete pods -n keptn --selector=app.kubernetes.io/name=bridge
    keys:
      session_secret: { length: 45, rotateEvery: 90d }
      database_encrypt_secret: { length: 32 }
  - name: analytics
    namespace: renku
    keys:
      API_TOKEN: { provided: true, description: ${apiTokenDescription} }
`;
}

/** A manifest as the tool leaves it, read back without decrypting, with the given state. */
export function managedManifest(
  id: string,
  keys: string[],
  recipient: string,
  state: ManifestState,
): [string, ManifestInfo] {
  const [namespace, name] = id.split('/') as [string, string];
  const path = `secrets/${namespace}/${name}.yaml`;
  const info = {
    path,
    name,
    namespace,
    dataKeys: keys,
    state,
    recipients: [`age:${recipient}`],
    managed: true,
  };
  return [path, info];
}
