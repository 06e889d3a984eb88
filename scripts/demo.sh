#!/usr/bin/env bash
# The demo: a scratch GitOps repo with a throwaway age key, `gitops-secrets sync`, and proof
# that sops opens what it wrote. Values are never printed: only key names and lengths.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/ensure-setup.sh" >/dev/null
export PATH="$root/.tools/bin:$PATH"
unset GITHUB_TOKEN GH_TOKEN GITHUB_ACTIONS || true

demo="$(mktemp -d "${TMPDIR:-/tmp}/gitops-secrets-demo.XXXXXX")"
cli=(node "$root/dist/cli.js")
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.com GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.com

step "throwaway age key (test only) in $demo"
age-keygen -o "$demo/test-only-age-key.txt" 2>/dev/null
recipient="$(age-keygen -y "$demo/test-only-age-key.txt")"
export SOPS_AGE_KEY_FILE="$demo/test-only-age-key.txt"
echo "recipient: $recipient"

step "scratch GitOps repo with a remote, .sops.yaml and the Keptn Bridge config"
git init --quiet --bare -b main "$demo/remote.git"
git init --quiet -b main "$demo/repo"
cd "$demo/repo"
git remote add origin "$demo/remote.git"
mkdir -p config
cp "$root/config/examples/keptn-bridge.yaml" config/secrets.yaml
cat > .sops.yaml <<YAML
creation_rules:
  - path_regex: ^secrets/.*\.yaml\$
    encrypted_regex: ^(data|stringData)\$
    age: $recipient
YAML
git add -A && git commit --quiet -m "gitops repo with a secrets config" && git push --quiet origin main
sed -n '/^secrets:/,$p' config/secrets.yaml

step "gitops-secrets check (no private key needed): work is pending, exit 3"
"${cli[@]}" check || echo "exit $?"

step "gitops-secrets sync"
"${cli[@]}" sync

step "the commit on gitops-secrets/sync (pushed to the remote)"
git log --format='%h %s' -1 origin/gitops-secrets/sync
file=secrets/keptn/bridge-oauth.yaml

step "the encrypted manifest: names and metadata readable, values ciphertext"
git show "origin/gitops-secrets/sync:$file" | sed -n '1,16p'
echo "    ..."

step "sops decrypt opens it (values withheld here: key, length, alphabet)"
git show "origin/gitops-secrets/sync:$file" |
  sops decrypt --filename-override "$file" --input-type yaml --output-type json |
  node -e '
    let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => {
      const doc = JSON.parse(s);
      console.log(`kind ${doc.kind}, ${doc.metadata.namespace}/${doc.metadata.name}`);
      for (const [k, v] of Object.entries(doc.data)) {
        const value = Buffer.from(v, "base64").toString();
        console.log(`  ${k}: ${value.length} characters, alphanumeric: ${/^[A-Za-z0-9]+$/.test(value)}`);
      }
    });'

step "gitops-secrets sync again: nothing to do, no commit, no push, no sops process"
"${cli[@]}" sync --json | node -e 'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>{const r=JSON.parse(s);console.log(`commit: ${r.commit}, pushed: ${r.pushed}, sops processes: ${r.sopsProcesses}`)})'

step "after the PR is merged, check is clean (exit 0)"
git merge --quiet --ff-only origin/gitops-secrets/sync
"${cli[@]}" check

echo
echo "demo repo kept at $demo (delete it when done)"
