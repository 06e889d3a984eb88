/**
 * The official sops release binaries the Action may download, and their SHA-256 checksums.
 *
 * The checksums of v3.13.2 are those of the release's `sops-v3.13.2.checksums.txt`, as pinned by
 * cashapp/hermit-packages (`sops.hcl`, commit f0517fd7532fc6adfd910cfba3ef2b4c59f662db) and, for
 * the two Linux binaries, by other projects' Dockerfiles and install scripts that agree with it.
 * Another version, or Windows, needs the `sops-sha256` input.
 */
export const DEFAULT_SOPS_VERSION = 'v3.13.2';

/** Where the release binaries are published; `sops-mirror` replaces it. */
export const RELEASE_BASE = 'https://github.com/getsops/sops/releases/download';

const PINNED: Record<string, Record<string, string>> = {
  'v3.13.2': {
    'sops-v3.13.2.linux.amd64': '154dfe4cd70554bdd82b98e4cd4acf191d43d01ead6f00a73477aa44c4ac42ef',
    'sops-v3.13.2.linux.arm64': '78abf2e15c86250a1553ae6f53aba96be6b2a8126f160b1534959add3467ad76',
    'sops-v3.13.2.darwin.amd64': '5a66836229ff4a73779b19644b6db28fd574a6b995c15fc333469b2f93ee2acd',
    'sops-v3.13.2.darwin.arm64': '412c475b52f167f1facd75d564422ffd1fa5302aaa7a404bdf4e30087e04b5a8',
  },
};

/** One release binary: its file name and the URL to download it from. */
export interface ReleaseAsset {
  /** The version without its `v`, as the tool cache files it. */
  version: string;
  /** The tool cache's architecture name (Node's `process.arch`). */
  arch: string;
  file: string;
  url: string;
  /** The pinned checksum, if this asset has one. */
  sha256: string | undefined;
}

/** The release binary for this OS and CPU: `sops-v3.13.2.linux.amd64`, `sops-v3.13.2.amd64.exe`. */
export function releaseAsset(
  tag: string,
  os: NodeJS.Platform,
  arch: string,
  mirror: string | undefined,
): ReleaseAsset | undefined {
  const cpu = { x64: 'amd64', arm64: 'arm64' }[arch];
  if (!cpu) return undefined;
  let file: string;
  if (os === 'linux' || os === 'darwin') file = `sops-${tag}.${os}.${cpu}`;
  else if (os === 'win32') file = `sops-${tag}.${cpu}.exe`;
  else return undefined;
  const base = (mirror || RELEASE_BASE).replace(/\/+$/, '');
  return {
    version: tag.slice(1),
    arch,
    file,
    url: `${base}/${tag}/${file}`,
    sha256: PINNED[tag]?.[file],
  };
}
