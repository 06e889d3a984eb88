import { ExternalError } from '../errors.js';
import { deriveValue } from '../model/derive.js';
import type { FilePlan, KeyChange } from '../plan/plan.js';

/**
 * The values of the derived keys a file's changes write (issue 23), in plan order (each after
 * its inputs). An input written in this run is taken from `values`; one that stays is read from
 * the file, decrypted through sops into memory (once per run). Results join `values`.
 */
export async function deriveValues(
  current: () => Promise<Record<string, string>>,
  file: FilePlan,
  writes: KeyChange[],
  values: Map<string, string>,
): Promise<void> {
  let held: Record<string, string> | undefined;
  for (const change of writes) {
    if (change.action === 'remove' || change.value?.kind !== 'derived') continue;
    const spec = file.secret.keys.find((k) => k.name === change.key);
    if (spec?.source.kind !== 'derived')
      throw new Error(`${file.path} ${change.key} is not a derived key`);
    const { derive, inputs } = spec.source;
    if (file.exists && inputs.some((i) => !values.has(i))) held ??= await current();
    const lookup = (key: string): string => {
      const value = values.get(key) ?? held?.[key];
      if (value === undefined)
        throw new ExternalError(
          'sops',
          `${file.path}: no value of ${key} to make ${change.key} from`,
        );
      return value;
    };
    values.set(change.key, deriveValue(derive, lookup));
  }
}
