import { posix } from 'node:path';
import { KSOPS_GENERATOR } from '../model/kustomization.js';

/** The GitOps controller `init --flux` / `init --argocd` writes the kustomize wiring for. */
export type GitopsTool = 'flux' | 'argocd';

const DOCS = 'https://github.com/gitops-secrets/gitops-secrets/blob/main/docs';

/** Where the Flux example Kustomization goes, relative to the repo root. */
export const FLUX_KUSTOMIZATION = 'flux/gitops-secrets.yaml';

/** The Secret (in flux-system) and its key that hold the age private key, as Flux's guide names them. */
export const FLUX_KEY_SECRET = { name: 'sops-age', key: 'age.agekey' } as const;

function fluxKustomization(): string {
  return `# Written by \`gitops-secrets init --flux\`. Flux's kustomize-controller builds this directory
# and decrypts the sops-encrypted Secrets after the build (spec.decryption in ${FLUX_KUSTOMIZATION}).
# \`gitops-secrets sync\` adds each new Secret manifest to resources: in the same commit, and
# \`sync --prune\` removes the entries of the manifests it deletes.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: []
`;
}

function fluxExample(root: string): string {
  const path = root === '.' ? './' : `./${root}`;
  return `# Written by \`gitops-secrets init --flux\`: an example Flux Kustomization that applies ${path}
# and decrypts its Secrets with the age key in the Secret ${FLUX_KEY_SECRET.name} (key ${FLUX_KEY_SECRET.key}):
#   kubectl create secret generic ${FLUX_KEY_SECRET.name} --namespace=flux-system \\
#     --from-file=${FLUX_KEY_SECRET.key}=PATH/TO/age-key.txt
# Move it under the path your Flux bootstrap reconciles (e.g. clusters/my-cluster/) or apply it
# with \`kubectl apply -f\`. Guide: ${DOCS}/flux.md
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: gitops-secrets
  namespace: flux-system
spec:
  interval: 10m
  sourceRef:
    kind: GitRepository
    name: flux-system
  path: ${path}
  prune: true
  decryption:
    provider: sops
    secretRef:
      name: ${FLUX_KEY_SECRET.name}
`;
}

function argocdKustomization(): string {
  return `# Written by \`gitops-secrets init --argocd\`. ksops, a kustomize exec plugin, decrypts the
# Secrets listed in ${KSOPS_GENERATOR} when Argo CD's repo-server builds this directory. That needs
# kustomize.buildOptions "--enable-alpha-plugins --enable-exec" in argocd-cm, ksops in the
# repo-server and the age key there (SOPS_AGE_KEY_FILE). \`gitops-secrets sync\` adds each new
# Secret to the generator's files: in the same commit. Guide: ${DOCS}/argocd.md
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
generators:
  - ./${KSOPS_GENERATOR}
`;
}

function ksopsGenerator(): string {
  return `# The ksops generator (https://github.com/viaduct-ai/kustomize-sops): kustomize runs ksops,
# which decrypts each file under files: with sops. \`gitops-secrets sync\` keeps files: up to date.
apiVersion: viaduct.ai/v1
kind: ksops
metadata:
  name: gitops-secrets
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: ksops
files: []
`;
}

/**
 * The files `init --flux` / `init --argocd` adds, by path relative to the repo root. `name` is the
 * kustomization's file name: one kustomize accepts, the spelling already there if there is one.
 */
export function gitopsFiles(tool: GitopsTool, root: string, name: string): Map<string, string> {
  const kustomization = posix.join(root, name);
  if (tool === 'flux') {
    return new Map([
      [kustomization, fluxKustomization()],
      [FLUX_KUSTOMIZATION, fluxExample(root)],
    ]);
  }
  return new Map([
    [kustomization, argocdKustomization()],
    [posix.join(root, KSOPS_GENERATOR), ksopsGenerator()],
  ]);
}

/** What `init` prints after writing the files for a controller: the set-up in the cluster. */
export function gitopsNotes(tool: GitopsTool): string[] {
  if (tool === 'flux') {
    return [
      `flux: put the age private key in the cluster (needs a cluster): kubectl create secret generic ${FLUX_KEY_SECRET.name} --namespace=flux-system --from-file=${FLUX_KEY_SECRET.key}=PATH/TO/age-key.txt`,
      `flux: apply ${FLUX_KUSTOMIZATION}, or move it under the path your Flux bootstrap reconciles; guide: ${DOCS}/flux.md`,
    ];
  }
  return [
    'argocd: the repo-server must run kustomize plugins: set kustomize.buildOptions: "--enable-alpha-plugins --enable-exec" in the argocd-cm ConfigMap',
    "argocd: put ksops on the repo-server's PATH (e.g. an init container from the viaductoss/ksops image) and mount the age private key there, with SOPS_AGE_KEY_FILE pointing at it",
    `argocd: then point an Application at the directory of the kustomization; guide: ${DOCS}/argocd.md`,
  ];
}
