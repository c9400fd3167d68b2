#!/bin/sh
# Installs the isartor binary from the project's GitHub releases.
#
#   curl -fsSL https://raw.githubusercontent.com/isartor-dev/isartor/main/install.sh | sh
#   sh install.sh [--prefix DIR] [--version X.Y.Z]
#
# Environment: ISARTOR_REPO (owner/name, default isartor-dev/isartor), ISARTOR_VERSION
# (default: the latest release), ISARTOR_INSTALL_DIR (default: ~/.isartor/bin),
# ISARTOR_DOWNLOAD_BASE (a mirror holding the release assets, instead of GitHub).
#
# Before anything is installed, the release's SHA256SUMS must carry a valid minisign
# signature (SHA256SUMS.minisig) by the release key below, and the binary must match
# its SHA-256 there. The signature is checked with `minisign` when installed, else with
# OpenSSL 3 (Ed25519, BLAKE2b-512). By hand: docs/install.md.
set -eu

REPO="${ISARTOR_REPO:-isartor-dev/isartor}"
VERSION="${ISARTOR_VERSION:-latest}"
INSTALL_DIR="${ISARTOR_INSTALL_DIR:-$HOME/.isartor/bin}"
CHECKSUMS="SHA256SUMS"
# The release signing key (minisign); the same as cli/update/release_key.ts.
RELEASE_PUBLIC_KEY="RWSekuMD03qWbXnIvsJyn6CyUFn+5udh4B4O+UZHYs3dlL6KHa/R+hCe"
SKIP_SIGNATURE="${ISARTOR_INSTALL_SKIP_SIGNATURE:-}"

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
  say "usage: install.sh [--prefix DIR] [--version X.Y.Z] [--skip-signature]"
  say "  --prefix DIR      install into DIR (default: $INSTALL_DIR)"
  say "  --version X.Y.Z   install that release (default: the latest)"
  say "  --skip-signature  without minisign or OpenSSL 3: check the SHA-256 only (not recommended)"
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
    --skip-signature)
      SKIP_SIGNATURE=1
      shift
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

# Prints the bytes of a file from offset $2, $3 bytes long.
slice() { dd if="$1" bs=1 skip="$2" count="$3" 2>/dev/null; }
hexof() { od -An -tx1 | tr -d ' \n'; }
b64d() { printf '%s' "$1" | openssl base64 -d -A; }

# Verifies a minisign signature with OpenSSL 3, as `minisign -V` does: the key id,
# the file's signature (over its BLAKE2b-512 for "ED", over the file for "Ed"),
# then the trusted comment's signature (over the signature and the comment).
openssl_minisign_verify() { # file sigfile pubkey workdir
  w="$4"
  b64d "$3" >"$w/pk.bin"
  b64d "$(sed -n 2p "$2")" >"$w/sig.bin"
  b64d "$(sed -n 4p "$2")" >"$w/global.bin"
  sed -n 3p "$2" | sed 's/^trusted comment: //' | tr -d '\n\r' >"$w/comment.txt"
  [ "$(wc -c <"$w/pk.bin" | tr -d ' ')" = 42 ] || return 1
  [ "$(wc -c <"$w/sig.bin" | tr -d ' ')" = 74 ] || return 1
  if [ "$(slice "$w/sig.bin" 2 8 | hexof)" != "$(slice "$w/pk.bin" 2 8 | hexof)" ]; then
    say "isartor install: $CHECKSUMS is signed by another key than the release key" >&2
    return 1
  fi
  # An Ed25519 public key in DER: the SubjectPublicKeyInfo prefix, then the 32 bytes.
  { printf '\060\052\060\005\006\003\053\145\160\003\041\000'; slice "$w/pk.bin" 10 32; } >"$w/pk.der"
  slice "$w/sig.bin" 10 64 >"$w/ed.sig"
  case "$(slice "$w/sig.bin" 0 2)" in
    ED) openssl dgst -blake2b512 -binary "$1" >"$w/msg" ;;
    Ed) cp "$1" "$w/msg" ;;
    *) return 1 ;;
  esac
  openssl pkeyutl -verify -pubin -keyform DER -inkey "$w/pk.der" -rawin \
    -in "$w/msg" -sigfile "$w/ed.sig" >/dev/null 2>&1 || return 1
  cat "$w/ed.sig" "$w/comment.txt" >"$w/global.msg"
  openssl pkeyutl -verify -pubin -keyform DER -inkey "$w/pk.der" -rawin \
    -in "$w/global.msg" -sigfile "$w/global.bin" >/dev/null 2>&1
}

have_openssl3() {
  command -v openssl >/dev/null 2>&1 && openssl version 2>/dev/null | grep -q '^OpenSSL [3-9]'
}

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

if [ -n "$SKIP_SIGNATURE" ]; then
  say "WARNING: --skip-signature: the signature of $CHECKSUMS is not checked." >&2
else
  fetch "$base/$CHECKSUMS.minisig" "$tmp/$CHECKSUMS.minisig" ||
    fail "cannot download $CHECKSUMS.minisig from $base: the release cannot be verified, not installing"
  if command -v minisign >/dev/null 2>&1; then
    minisign -Vq -m "$tmp/$CHECKSUMS" -x "$tmp/$CHECKSUMS.minisig" -P "$RELEASE_PUBLIC_KEY" >/dev/null 2>&1 ||
      fail "the signature of $CHECKSUMS does not verify with the release key: not installing"
    say "Signature verified (minisign, release key)."
  elif have_openssl3; then
    mkdir "$tmp/v"
    openssl_minisign_verify "$tmp/$CHECKSUMS" "$tmp/$CHECKSUMS.minisig" "$RELEASE_PUBLIC_KEY" "$tmp/v" ||
      fail "the signature of $CHECKSUMS does not verify with the release key: not installing"
    say "Signature verified (OpenSSL, release key)."
  else
    fail "verifying the release needs minisign (e.g. brew install minisign, apt install minisign) or OpenSSL 3; or rerun with --skip-signature to rely on the SHA-256 alone"
  fi
fi

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
