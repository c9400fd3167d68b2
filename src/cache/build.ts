/**
 * Builds the cache backends from config: the place where `cache_backend`
 * chooses the persistent store.
 *
 * @module
 */

import type { Config } from "../config/schema.ts";
import type { Metrics } from "../telemetry/metrics.ts";
import type { ByteStore, StoreKey } from "./byte_store.ts";
import { KvByteStore } from "./kv_store.ts";
import { RecordingCache } from "./recording_cache.ts";

/**
 * A ByteStore opened on first use, so the gateway can be built synchronously
 * and a store that cannot open (locked or unwritable file) only degrades the
 * cache instead of stopping the gateway.
 */
export class LazyByteStore implements ByteStore {
  #store: Promise<ByteStore> | null = null;
  constructor(readonly kind: string, readonly open: () => Promise<ByteStore>) {}

  #get(): Promise<ByteStore> {
    if (!this.#store) {
      this.#store = this.open();
      // A failed open is retried on the next use.
      this.#store.catch(() => (this.#store = null));
    }
    return this.#store;
  }

  async get(key: StoreKey) {
    return (await this.#get()).get(key);
  }
  async set(key: StoreKey, value: Uint8Array, ttlMs: number) {
    return (await this.#get()).set(key, value, ttlMs);
  }
  async delete(key: StoreKey) {
    return (await this.#get()).delete(key);
  }
  async deletePrefix(prefix: StoreKey) {
    return (await this.#get()).deletePrefix(prefix);
  }
  async *list(prefix: StoreKey): AsyncIterable<[StoreKey, Uint8Array]> {
    const store = await this.#get();
    if (store.list) yield* store.list(prefix);
  }
  async close() {
    if (this.#store) await (await this.#store.catch(() => null))?.close();
  }
}

let lastWarning = 0;

/**
 * The persistent store `cache_backend` asks for, opened on first use (null for
 * "memory"). The exact and the semantic cache share it.
 */
export function buildByteStore(config: Config): ByteStore | null {
  return config.cache_backend === "kv"
    ? new LazyByteStore("kv", () => KvByteStore.open(`${config.data_dir}/cache.kv`))
    : null;
}

/** The recording cache of the exact layer, per config. */
export function buildRecordingCache(
  config: Config,
  metrics: Metrics,
  store?: ByteStore | null,
): RecordingCache {
  const persistent = store === undefined ? buildByteStore(config) : store;
  return new RecordingCache(persistent, {
    maxEntries: config.cache_max_capacity,
    maxBytes: config.cache_max_bytes,
    ttlMs: config.cache_ttl_secs * 1000,
    onStoreError: (op, e) => {
      metrics.cacheStoreErrors.inc({ op });
      // One line a minute at most: a broken disk must not flood the log.
      if (Date.now() - lastWarning > 60_000) {
        lastWarning = Date.now();
        console.warn(
          `[isartor] warning: cache store ${op} failed (${
            (e as Error).message
          }); serving without the persistent cache`,
        );
      }
    },
  });
}
