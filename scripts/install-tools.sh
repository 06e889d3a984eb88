#!/usr/bin/env bash
# Installs the pinned external tools into ./.tools/bin with `go install`
# (the Go module proxy is the only place they may come from). Skips a tool
# that is already there at the pinned version. The tests also check generated
# values with `htpasswd` (Debian's apache2-utils) and `ssh-keygen`
# (openssh-client); when one is missing and this runs as root with apt-get,
# it installs the package.
set -euo pipefail

SOPS_VERSION="${SOPS_VERSION:-v3.13.2}"
AGE_VERSION="${AGE_VERSION:-v1.3.1}"
ACTIONLINT_VERSION="${ACTIONLINT_VERSION:-v1.7.12}"
KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.8.2}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.tools/bin"
mkdir -p "$bin"
export GOBIN="$bin"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

if ! command -v go >/dev/null 2>&1; then
  echo "install-tools: Go is required (https://go.dev/doc/install); none found on PATH" >&2
  exit 1
fi

# version_of BIN: prints the module version recorded in the binary, or nothing.
version_of() {
  [ -x "$1" ] || return 0
  go version -m "$1" 2>/dev/null | awk '$1 == "mod" { print $3; exit }'
}

install() { # name module version
  local name="$1" module="$2" version="$3"
  local have
  have="$(version_of "$bin/$name")"
  if [ "$have" = "$version" ]; then
    echo "install-tools: $name $version already installed"
    return
  fi
  echo "install-tools: installing $name $version (go install $module@$version)"
  go install "$module@$version"
}

install sops github.com/getsops/sops/v3/cmd/sops "$SOPS_VERSION"
install age filippo.io/age/cmd/age "$AGE_VERSION"
install age-keygen filippo.io/age/cmd/age-keygen "$AGE_VERSION"
if [ "${INSTALL_ACTIONLINT:-1}" = "1" ]; then
  install actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION"
fi
install kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"

# apt_tool COMMAND PACKAGE: the Debian package that provides COMMAND, when it is missing.
apt_tool() {
  local cmd="$1" pkg="$2"
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "install-tools: installing $pkg (apt-get) for $cmd"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null; then
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
    fi
  else
    echo "install-tools: the tests need $cmd (Debian: apt-get install $pkg); not installed" >&2
  fi
}
apt_tool htpasswd apache2-utils
apt_tool ssh-keygen openssh-client
