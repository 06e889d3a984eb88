import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as core from '@actions/core';
import * as io from '@actions/io';
import * as tc from '@actions/tool-cache';
import { ExternalError, UsageError } from '../errors.js';
import { MIN_SOPS_VERSION, sopsVersionOf, supportedSops } from '../ports/sops.js';
import { toolVersion } from '../ports/tool-version.js';
import { DEFAULT_SOPS_VERSION, type ReleaseAsset, releaseAsset } from './sops-releases.js';

/** What the `sops-version`, `sops-sha256` and `sops-mirror` inputs ask for. */
export interface SopsWanted {
  /** e.g. `v3.13.2`. */
  tag: string;
  sha256: string | undefined;
  mirror: string | undefined;
}

/** The sops the run uses. */
export interface SopsFound {
  bin: string;
  version: string;
  from: 'PATH' | 'the tool cache' | 'a verified download';
}

/**
 * The sops on PATH when it is recent enough (a user who installed sops in an earlier step keeps
 * it); else the tool cache's; else the official release binary for this OS and CPU, downloaded,
 * its SHA-256 checked before it is cached or run. `env` is the environment the version check runs
 * sops with (no private key, no token).
 */
export async function setupSops(wanted: SopsWanted, env: NodeJS.ProcessEnv): Promise<SopsFound> {
  const onPath = await io.which('sops', false);
  if (onPath) {
    const version = await sopsVersion(onPath, env);
    if (version && supportedSops(version))
      return { bin: onPath, version: version.join('.'), from: 'PATH' };
    core.info(
      `sops on PATH (${onPath}) is ${version?.join('.') ?? 'of unknown version'}; gitops-secrets needs ${MIN_SOPS_VERSION.join('.')} or newer, so it uses sops ${wanted.tag}`,
    );
  }
  const asset = releaseAsset(wanted.tag, process.platform, process.arch, wanted.mirror);
  if (!asset) {
    throw new UsageError(
      `no official sops release binary for ${process.platform}/${process.arch}`,
      'install sops in an earlier step (it is used from PATH)',
    );
  }
  const exe = process.platform === 'win32' ? 'sops.exe' : 'sops';
  const cached = tc.find('sops', asset.version, asset.arch);
  const bin = cached ? join(cached, exe) : await download(asset, wanted.sha256, exe);
  const version = await sopsVersion(bin, env);
  if (!version) throw new ExternalError('sops', `${bin} does not run (sops --version failed)`);
  return {
    bin,
    version: version.join('.'),
    from: cached ? 'the tool cache' : 'a verified download',
  };
}

async function download(asset: ReleaseAsset, given: string | undefined, exe: string) {
  const expected = (given || asset.sha256)?.toLowerCase();
  if (!expected) {
    throw new UsageError(
      `no pinned checksum for ${asset.file}`,
      `pass its SHA-256 (from the release's checksums file) as the sops-sha256 input, or use sops-version ${DEFAULT_SOPS_VERSION}`,
    );
  }
  core.info(`downloading ${asset.url}`);
  const file = await tc.downloadTool(asset.url).catch((e: Error) => {
    throw new ExternalError(
      'sops',
      `could not download ${asset.url}: ${e.message}`,
      'check sops-version and sops-mirror; without internet access, use sops-mirror or install sops in an earlier step',
    );
  });
  const actual = await sha256(file);
  if (actual !== expected) {
    await rm(file, { force: true });
    throw new ExternalError(
      'sops',
      `checksum mismatch for ${asset.file} from ${asset.url}: expected SHA-256 ${expected}, got ${actual}; the file was deleted and nothing ran`,
      'check sops-version, sops-sha256 and sops-mirror; a mismatch on the official release means the download was altered',
    );
  }
  await chmod(file, 0o755);
  const dir = await tc.cacheFile(file, exe, 'sops', asset.version, asset.arch);
  await rm(file, { force: true });
  return join(dir, exe);
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function sopsVersion(bin: string, env: NodeJS.ProcessEnv): Promise<number[] | undefined> {
  const out = await toolVersion(bin, ['--version', '--disable-version-check'], env);
  return out ? sopsVersionOf(out) : undefined;
}
