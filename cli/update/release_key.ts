/**
 * The minisign public key the release workflow signs `SHA256SUMS` with. The
 * same key is written in install.sh, install.ps1 and docs/install.md (a test
 * checks they agree); to rotate it, change all four and the workflow's secret.
 *
 * @module
 */

/** The release signing key (minisign, base64), key id 6D967AD303E3929E. */
export const RELEASE_PUBLIC_KEY = "RWSekuMD03qWbXnIvsJyn6CyUFn+5udh4B4O+UZHYs3dlL6KHa/R+hCe";
