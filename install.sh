#!/bin/sh
# Installs the isartor binary from the project's GitHub releases.
#
#   curl -fsSL https://raw.githubusercontent.com/isartor-dev/isartor/main/install.sh | sh
#   sh install.sh [--prefix DIR] [--version X.Y.Z]
#
# Environment: ISARTOR_REPO (owner/name, default isartor-dev/isartor), ISARTOR_VERSION
# (default: the latest release), ISARTOR_INSTALL_DIR (default: ~/.isartor/bin),
# ISARTOR_DOWNLOAD_BASE (a mirror holding the release assets, instead of GitHub).
# The download is checked against the release's SHA256SUMS file before it is installed.
set -eu

REPO="${ISARTOR_REPO:-isartor-dev/isartor}"
VERSION="${ISARTOR_VERSION:-latest}"
INSTALL_DIR="${ISARTOR_INSTALL_DIR:-$HOME/.isartor/bin}"
CHECKSUMS="SHA256SUMS"

say() { printf '%s\n' "$*"; }
fail() {
  printf 'isartor install: %s\n' "$*" >&2
  exit 1
}

from_source() {
  say ""
  say "Run isartor from a clone instead (needs Node.js and npm):"
  say "  git clone https://github.com/$REPO.git && cd ${REPO##*/}"
  say "  npx -y deno@2.9.6 task up"
}

usage() {
  say "usage: install.sh [--prefix DIR] [--version X.Y.Z]"
  say "  --prefix DIR     install into DIR (default: $INSTALL_DIR)"
  say "  --version X.Y.Z  install that release (default: the latest)"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix)
      [ $# -ge 2 ] || fail "--prefix needs a directory"
      INSTALL_DIR="$2"
      shift 2
      ;;
    --version)
      [ $# -ge 2 ] || fail "--version needs a version, e.g. 0.1.0"
      VERSION="$2"
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      fail "unknown option: $1"
      ;;
  esac
done

# The asset names match `deno task compile` (dist/isartor-<os>-<arch>).
os="$(uname -s)"
arch="$(uname -m)"
case "$os" in
  Linux) os=linux ;;
  Darwin) os=macos ;;
  *) os="" ;;
esac
case "$arch" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch="" ;;
esac
if [ -z "$os" ] || [ -z "$arch" ]; then
  say "isartor install: no prebuilt binary for $(uname -s) $(uname -m)."
  from_source
  exit 1
fi
if [ "$os" = linux ] && ldd --version 2>&1 | grep -qi musl; then
  say "isartor install: the prebuilt Linux binaries need glibc; this system uses musl."
  from_source
  exit 1
fi
asset="isartor-$os-$arch"

if [ -n "${ISARTOR_DOWNLOAD_BASE:-}" ]; then
  base="${ISARTOR_DOWNLOAD_BASE%/}"
elif [ "$VERSION" = latest ]; then
  base="https://github.com/$REPO/releases/latest/download"
else
  base="https://github.com/$REPO/releases/download/v${VERSION#v}"
fi

if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL --retry 2 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  fail "curl or wget is needed to download isartor"
fi

if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
else
  fail "sha256sum or shasum is needed to verify the download"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT INT TERM

say "Downloading $asset ($VERSION) from $base ..."
if ! fetch "$base/$asset" "$tmp/$asset"; then
  say "isartor install: no release binary $asset at $base."
  from_source
  exit 1
fi
fetch "$base/$CHECKSUMS" "$tmp/$CHECKSUMS" ||
  fail "cannot download $CHECKSUMS from $base: the binary cannot be verified, not installing"

expected="$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1; exit }' "$tmp/$CHECKSUMS")"
[ -n "$expected" ] || fail "$CHECKSUMS has no entry for $asset: not installing"
actual="$(sha256 "$tmp/$asset")"
if [ "$expected" != "$actual" ]; then
  fail "checksum mismatch for $asset (expected $expected, got $actual): not installing"
fi
say "Checksum verified (SHA-256 $actual)."

mkdir -p "$INSTALL_DIR"
chmod 755 "$tmp/$asset"
mv "$tmp/$asset" "$INSTALL_DIR/isartor"
say "Installed $INSTALL_DIR/isartor"

say ""
say "Next steps:"
case ":$PATH:" in
  *":$INSTALL_DIR:"*) ;;
  *)
    say "  Add it to your PATH (e.g. in ~/.profile):"
    say "    export PATH=\"$INSTALL_DIR:\$PATH\""
    ;;
esac
say "  isartor --version"
say "  isartor up            # starts the gateway on http://127.0.0.1:8080"
say "  Then point clients at http://127.0.0.1:8080/v1 (OpenAI) or http://127.0.0.1:8080 (Anthropic)."
say "  Configuration: https://github.com/$REPO/blob/main/docs/configuration.md"
