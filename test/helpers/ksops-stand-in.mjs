#!/usr/bin/env node
/**
 * A STAND-IN for ksops (github.com/viaduct-ai/kustomize-sops), which the registries this project
 * uses do not ship. It follows kustomize's exec KRM-function contract as ksops does: a
 * ResourceList on stdin whose functionConfig is the ksops generator, a ResourceList on stdout
 * whose items are the generator's `files:`, each decrypted by the real `sops decrypt` (found on
 * PATH), relative to the directory kustomize runs it in (the kustomization's).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments, stringify } from 'yaml';

const list = parse(readFileSync(0, 'utf8'));
const config = list.functionConfig ?? {};
if (config.apiVersion !== 'viaduct.ai/v1' || config.kind !== 'ksops') {
  process.stderr.write(
    `ksops stand-in: not a ksops generator: ${config.apiVersion}/${config.kind}\n`,
  );
  process.exit(1);
}
const items = [...(list.items ?? [])];
for (const file of config.files ?? []) {
  const plain = execFileSync('sops', ['decrypt', file], { encoding: 'utf8' });
  for (const doc of parseAllDocuments(plain)) items.push(doc.toJS());
}
process.stdout.write(stringify({ apiVersion: list.apiVersion, kind: 'ResourceList', items }));
