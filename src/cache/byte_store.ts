/**
 * The narrow interface behind which persistent cache storage sits: Deno KV on
 * disk by default, Redis for a cluster (a later backend), plain memory in tests.
 *
 * Keys are tuples of strings; values are opaque bytes with a time to live.
 *
 * @module
 */

/** A key: a tuple of strings, e.g. `["l1a", tenant, provider, digest]`. */
export type StoreKey = readonly string[];

/** Persistent bytes by key. Every method may throw; callers degrade to a miss. */
export interface ByteStore {
  /** A short name for logs and `/health`, e.g. "kv". */
  readonly kind: string;
  get(key: StoreKey): Promise<Uint8Array | null>;
  set(key: StoreKey, value: Uint8Array, ttlMs: number): Promise<void>;
  delete(key: StoreKey): Promise<void>;
  /** Deletes every entry under a key prefix; returns how many entries went. */
  deletePrefix(prefix: StoreKey): Promise<number>;
  /**
   * Every live entry under a key prefix, as `[key, value]`, in key order. Used
   * to rebuild in-memory indexes at start (the semantic cache's vectors); a
   * store without it starts those indexes empty.
   */
  list?(prefix: StoreKey): AsyncIterable<[StoreKey, Uint8Array]>;
  close(): Promise<void>;
}

/** An in-memory ByteStore (tests, and a reference for the contract). */
export class MemoryByteStore implements ByteStore {
  readonly kind = "memory";
  #map = new Map<string, { value: Uint8Array; expiresAt: number }>();
  #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  get(key: StoreKey): Promise<Uint8Array | null> {
    const e = this.#map.get(JSON.stringify(key));
    if (!e || e.expiresAt <= this.#now()) return Promise.resolve(null);
    return Promise.resolve(e.value);
  }

  set(key: StoreKey, value: Uint8Array, ttlMs: number): Promise<void> {
    this.#map.set(JSON.stringify(key), { value, expiresAt: this.#now() + ttlMs });
    return Promise.resolve();
  }

  delete(key: StoreKey): Promise<void> {
    this.#map.delete(JSON.stringify(key));
    return Promise.resolve();
  }

  deletePrefix(prefix: StoreKey): Promise<number> {
    let n = 0;
    for (const k of [...this.#map.keys()]) {
      const parts = JSON.parse(k) as string[];
      if (prefix.every((p, i) => parts[i] === p)) {
        this.#map.delete(k);
        n++;
      }
    }
    return Promise.resolve(n);
  }

  async *list(prefix: StoreKey): AsyncIterable<[StoreKey, Uint8Array]> {
    const now = this.#now();
    const found: [string[], Uint8Array][] = [];
    for (const [k, e] of this.#map) {
      const parts = JSON.parse(k) as string[];
      if (e.expiresAt > now && prefix.every((p, i) => parts[i] === p)) found.push([parts, e.value]);
    }
    found.sort((a, b) => (a[0].join("\u0000") < b[0].join("\u0000") ? -1 : 1));
    yield* found;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
