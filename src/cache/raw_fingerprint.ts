/**
 * A memo from the raw request bytes to the canonical cache key.
 *
 * Canonicalizing and hashing a 1 MB agent request costs about 3 ms (bench `cache_key`);
 * agents resend the same bytes (retries, replays of a session), so the memo
 * answers those in a fraction of that. The fingerprint is two 64-bit xxHash
 * digests with random per-process seeds: a non-cryptographic hash, keyed with
 * a secret no client knows, that only ever maps bytes to the key their own
 * canonical form would give. It lives in memory and never leaves the process.
 *
 * @module
 */

import xxhash from "xxhash-wasm";

const hasher = await xxhash();

function randomSeed(): bigint {
  return crypto.getRandomValues(new BigUint64Array(1))[0];
}

/**
 * What a request's bytes were found to mean the first time they were parsed
 * and validated: its key, and the few fields a cache hit needs. Lets a repeat
 * of the same bytes be answered from the cache without parsing them again.
 */
export interface RawFacts {
  digest: string;
  model: string;
  stream: boolean;
  /** OpenAI's `stream_options`, which decides the usage chunk of a replay. */
  streamOptions?: unknown;
}

/** Raw bytes → what they mean, bounded (oldest entries go first). */
export class RawKeyMemo {
  #map = new Map<string, RawFacts>();
  #seedA = randomSeed();
  #seedB = randomSeed();

  constructor(readonly maxEntries = 4096) {}

  /** The fingerprint of a request: its bytes plus the context that shapes its key. */
  fingerprint(context: string, raw: Uint8Array): string {
    const a = hasher.h64Raw(raw, this.#seedA);
    const b = hasher.h64Raw(raw, this.#seedB);
    return `${context}\u0000${a.toString(36)}.${b.toString(36)}.${raw.byteLength}`;
  }

  get(fp: string): RawFacts | undefined {
    return this.#map.get(fp);
  }

  set(fp: string, facts: RawFacts): void {
    if (this.#map.size >= this.maxEntries) {
      const oldest = this.#map.keys().next().value;
      if (oldest !== undefined) this.#map.delete(oldest);
    }
    this.#map.set(fp, facts);
  }
}
