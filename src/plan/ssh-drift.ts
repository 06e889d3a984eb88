import type { SshSource } from '../config/types-derived.js';
import { isProblem, type ManifestInfo, type ManifestProblem } from '../model/manifest.js';
import type { Plan } from './types.js';

/** An SSH key's type as the state annotation records it: `ed25519`, `rsa-4096`. */
export function sshKind(source: SshSource): string {
  return source.type === 'rsa' ? `rsa-${source.bits}` : source.type;
}

/** An SSH key whose recorded type differs from the config's (only `rotate --force` changes it). */
export interface SshDrift {
  path: string;
  id: string;
  key: string;
  recorded: string;
  configured: string;
}

/**
 * SSH keys of the files made as another type or size than the config now says, read without
 * decrypting (the state annotation). Keys made before the type was recorded are not compared.
 */
export function sshDrift(
  plan: Plan,
  existing: Map<string, ManifestInfo | ManifestProblem>,
): SshDrift[] {
  const out: SshDrift[] = [];
  for (const file of plan.files) {
    const info = existing.get(file.path);
    if (!info || isProblem(info)) continue;
    for (const key of file.secret.keys) {
      if (key.source.kind !== 'ssh' || !info.dataKeys.includes(key.name)) continue;
      const recorded = info.state.keys[key.name]?.ssh;
      const configured = sshKind(key.source);
      if (recorded !== undefined && recorded !== configured)
        out.push({ path: file.path, id: file.id, key: key.name, recorded, configured });
    }
  }
  return out;
}
