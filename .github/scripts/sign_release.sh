#!/bin/sh
# Writes SHA256SUMS for every release asset in a folder and signs it with minisign,
# then checks the signature against the release key committed in
# cli/update/release_key.ts, so a secret that does not belong to that key fails the
# release instead of shipping assets no one can verify. Runs without Docker or GitHub:
# tests/e2e/release_workflow_test.ts runs it with a test key.
#
#   MINISIGN_SECRET_KEY="$(cat minisign.key)" [MINISIGN_PASSWORD=...] \
#     sh .github/scripts/sign_release.sh dist v0.2.0
#
# RELEASE_PUBLIC_KEY overrides the committed key (tests only).
set -eu

dir="${1:?usage: sign_release.sh DIST_DIR TAG}"
tag="${2:?usage: sign_release.sh DIST_DIR TAG}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
[ -n "${MINISIGN_SECRET_KEY:-}" ] || {
  echo "sign_release: MINISIGN_SECRET_KEY is not set (the repository secret)" >&2
  exit 1
}
pub="${RELEASE_PUBLIC_KEY:-$(sed -n 's/^export const RELEASE_PUBLIC_KEY = "\(.*\)";$/\1/p' "$root/cli/update/release_key.ts")}"
[ -n "$pub" ] || {
  echo "sign_release: no RELEASE_PUBLIC_KEY in cli/update/release_key.ts" >&2
  exit 1
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT INT TERM
umask 077
printf '%s\n' "$MINISIGN_SECRET_KEY" >"$work/minisign.key"

cd "$dir"
rm -f SHA256SUMS SHA256SUMS.minisig
# Every regular file in the folder, sorted, as `sha256sum -c` reads it back.
find . -maxdepth 1 -type f ! -name 'SHA256SUMS*' | sed 's|^\./||' | LC_ALL=C sort |
  while IFS= read -r f; do sha256sum "$f"; done >SHA256SUMS
[ -s SHA256SUMS ] || {
  echo "sign_release: no assets in $dir" >&2
  exit 1
}
printf '%s\n' "${MINISIGN_PASSWORD:-}" |
  minisign -S -s "$work/minisign.key" -m SHA256SUMS -x SHA256SUMS.minisig \
    -t "isartor $tag SHA256SUMS" >/dev/null
minisign -Vq -m SHA256SUMS -x SHA256SUMS.minisig -P "$pub" || {
  echo "sign_release: the signing secret does not belong to the release key in cli/update/release_key.ts" >&2
  exit 1
}
echo "SHA256SUMS signed for $tag:"
cat SHA256SUMS
