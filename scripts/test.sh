#!/usr/bin/env bash
# The test command: setup (idempotent), typecheck, lint, then every ava test. The structure
# rules of issue 19 (layering by dependency-cruiser, file and function sizes) run as
# test/structure.test.ts, with the other tests.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/ensure-setup.sh
export PATH="$root/.tools/bin:$PATH"
npx tsc -p tsconfig.json --noEmit
npx biome check .
npx ava "$@"
