/**
 * Per-tenant gateway keys (`gateway_keys`): each key names its tenant, so a
 * caller's cache partition is proven by the key it holds rather than claimed
 * in a header. Keys are stored as SHA-256 digests only; `isartor keys add`
 * prints a new key once and writes its digest.
 *
 * @module
 */

import { createHash } from "node:crypto";

/** One configured key, as `[[gateway_keys]]` stores it. */
export interface GatewayKeyEntry {
  /** Hex SHA-256 of the key. */
  key_sha256: string;
  /** The tenant (cache partition, stats scope) of every call made with the key. */
  tenant: string;
  /** A human name for `isartor keys list`. */
  label: string;
  /** Whether calls with this key may name their tenant in `tenant_header` (a proxy in front). */
  trusted_proxy: boolean;
  /** Most model requests per window; 0: no limit. */
  requests_per_window: number;
  /** Most provider tokens (input + output, L3 answers) per window; 0: no limit. */
  tokens_per_window: number;
  /** The quota window in seconds (fixed windows from the Unix epoch). */
  window_secs: number;
}

/** A key's short, public id: the first 12 hex digits of its digest (what `keys revoke` takes). */
export function keyId(entry: Pick<GatewayKeyEntry, "key_sha256">): string {
  return entry.key_sha256.slice(0, 12);
}

/** The hex SHA-256 of a key. */
export function hashGatewayKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/**
 * A fresh key: `isk-` and 32 random bytes in base64url (256 bits, so the
 * unsalted SHA-256 stored for it cannot be reversed by guessing).
 *
 * @example
 * ```ts
 * newGatewayKey().startsWith("isk-"); // true
 * ```
 */
export function newGatewayKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const b64 = btoa(String.fromCharCode(...bytes));
  return `isk-${b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}

/** The configured keys, found by the digest of a presented secret. */
export class GatewayKeyRing {
  readonly #byDigest = new Map<string, GatewayKeyEntry>();
  /** Digests of presented secrets (a client sends the same one on every request). */
  readonly #memo = new Map<string, string>();

  constructor(readonly entries: readonly GatewayKeyEntry[]) {
    for (const e of entries) this.#byDigest.set(e.key_sha256.toLowerCase(), e);
  }

  /** How many keys there are. */
  get size(): number {
    return this.#byDigest.size;
  }

  /**
   * The entry of a presented secret, or undefined. The lookup is by digest,
   * so its timing says nothing about any stored key.
   */
  find(secret: string): GatewayKeyEntry | undefined {
    if (this.#byDigest.size === 0) return undefined;
    let digest = this.#memo.get(secret);
    if (digest === undefined) {
      digest = hashGatewayKey(secret);
      if (this.#memo.size >= 1024) this.#memo.clear();
      this.#memo.set(secret, digest);
    }
    return this.#byDigest.get(digest);
  }
}
