/**
 * model/recipients.ts: every key source sops supports, read from a manifest's sops block, a
 * .sops.yaml creation rule and the config, in one id form; and when re-encryption is needed.
 */
import test from 'ava';
import type { SopsSettings } from '../src/config/types.js';
import {
  readSopsRules,
  recipientChange,
  recipientsOfBlock,
  recipientsOfSettings,
} from '../src/model/recipients.js';
import { readSopsYaml } from '../src/model/sops-yaml.js';

const AZURE = 'https://team.vault.azure.net/keys/sops-key/0123abcd';
const VAULT = 'https://vault.example.org:8200/v1/transit/keys/team';
const ARN = 'arn:aws:kms:eu-west-1:111122223333:key/abcd';
const ROLE = 'arn:aws:iam::111122223333:role/sops';
const GCP = 'projects/p/locations/global/keyRings/r/cryptoKeys/k';

const ALL = [
  'age:age1one',
  `azureKv:${AZURE}`,
  `gcpKms:${GCP}`,
  `hcVault:${VAULT}`,
  `kms:${ARN}+${ROLE}`,
  'pgp:85D77543B3D624B63CEA9E6DBC17301B491B3F21',
].sort();

/** A sops block as sops 3.13 writes it (wrapped keys shortened). */
const BLOCK = {
  kms: [{ arn: ARN, role: ROLE, created_at: '2026-12-05T19:00:00Z', enc: 'x', aws_profile: '' }],
  gcp_kms: [{ resource_id: GCP, created_at: '2026-12-05T19:00:00Z', enc: 'x' }],
  azure_kv: [
    {
      vault_url: 'https://team.vault.azure.net',
      name: 'sops-key',
      version: '0123abcd',
      created_at: '2026-12-05T19:00:00Z',
      enc: 'x',
    },
  ],
  hc_vault: [
    {
      vault_address: 'https://vault.example.org:8200',
      engine_path: 'transit',
      key_name: 'team',
      created_at: '2026-12-05T19:00:00Z',
      enc: 'vault:v1:x',
    },
  ],
  age: [{ recipient: 'age1one', enc: '-----BEGIN AGE ENCRYPTED FILE-----\n' }],
  pgp: [{ fp: '85D77543B3D624B63CEA9E6DBC17301B491B3F21', created_at: 'x', enc: 'x' }],
  mac: 'ENC[...]',
};

test('a sops block: every kind, as one id each', (t) => {
  t.deepEqual(recipientsOfBlock(BLOCK), ALL);
  t.deepEqual(
    recipientsOfBlock({ key_groups: [{ age: BLOCK.age }, { hc_vault: BLOCK.hc_vault }] }),
    ['age:age1one', `hcVault:${VAULT}`],
  );
  // Entries without their fields are not recipients.
  t.deepEqual(
    recipientsOfBlock({ azure_kv: [{ vault_url: 'https://x' }], age: [{}, null, 'x'] }),
    [],
  );
});

test('.sops.yaml rules: the first rule matching the path, strings or lists', (t) => {
  const rules = readSopsRules(
    readSopsYaml(`creation_rules:
  - path_regex: ^other/
    age: age1other
  - path_regex: ^secrets/
    age: age1one
    pgp: "85D7 7543 B3D6 24B6 3CEA 9E6D BC17 301B 491B 3F21"
    kms: ${ARN}+${ROLE}
    gcp_kms: [${GCP}]
    azure_keyvault: ${AZURE}
    hc_vault_transit_uri: " ${VAULT} "
  - path_regex: ^groups/
    key_groups:
      - age: [age1one]
`),
  );
  t.deepEqual(rules('secrets/a.yaml'), ALL, 'a PGP fingerprint is read without its spaces');
  t.deepEqual(rules('other/a.yaml'), ['age:age1other']);
  t.is(rules('groups/a.yaml'), undefined, 'key groups are not compared');
  t.is(rules('elsewhere/a.yaml'), undefined);
  t.is(readSopsRules(readSopsYaml('creation_rules: ['))('secrets/a.yaml'), undefined);
  t.is(readSopsRules(readSopsYaml(undefined))('secrets/a.yaml'), undefined);
});

test('the config: every kind it takes; none named means .sops.yaml decides', (t) => {
  const settings: SopsSettings = {
    age: ['age1one'],
    pgp: ['85D77543B3D624B63CEA9E6DBC17301B491B3F21'],
    kms: [`${ARN}+${ROLE}`],
    gcpKms: [GCP],
    azureKv: [AZURE],
    hcVaultTransit: [VAULT],
    encryptedRegex: '^(data|stringData)$',
    ownEncryptedRegex: false,
    hasRecipients: true,
  };
  t.deepEqual(recipientsOfSettings(settings), ALL);
  t.is(recipientsOfSettings({ ...settings, hasRecipients: false }), undefined);
});

test('re-encryption: when the recipients differ, of any kind', (t) => {
  t.is(recipientChange(ALL, ALL), undefined);
  t.is(recipientChange(undefined, ALL), undefined, 'nothing says what they should be');
  t.is(recipientChange([], ALL), undefined);
  const otherVault = `hcVault:${VAULT.replace('team', 'other')}`;
  t.deepEqual(recipientChange([...ALL.filter((r) => !r.startsWith('hcVault')), otherVault], ALL), {
    reason: 'recipients changed (1 added, 1 removed)',
    add: [otherVault],
    remove: [`hcVault:${VAULT}`],
  });
  const otherAzure = `azureKv:${AZURE.replace('0123abcd', '4567ef01')}`;
  t.like(recipientChange([...ALL.filter((r) => !r.startsWith('azureKv')), otherAzure], ALL), {
    add: [otherAzure],
    remove: [`azureKv:${AZURE}`],
  });
  // An Azure key named without a version is the key's latest, whichever version the file records.
  const latest = `azureKv:${AZURE.slice(0, AZURE.lastIndexOf('/'))}`;
  t.is(recipientChange([...ALL.filter((r) => !r.startsWith('azureKv')), latest], ALL), undefined);
});
