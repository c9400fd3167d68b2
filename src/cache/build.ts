/**
 * Builds the cache backends from config: the place where `cache_backend`
 * chooses the persistent store, and where cluster mode adds the feed between
 * replicas and the cross-replica lock.
 *
 * @module
 */

import type { Config } from "../config/schema.ts";
import type { Metrics } from "../telemetry/metrics.ts";
import type { ByteStore, StoreKey } from "./byte_store.ts";
import type { CacheFeed } from "./cache_feed.ts";
import { KvByteStore } from "./kv_store.ts";
import { RecordingCache } from "./recording_cache.ts";
import { redactRedisUrl, RedisConnection, redisUrlWithDb } from "./redis_client.ts";
import { RedisCacheFeed } from "./redis_feed.ts";
import { RedisByteStore } from "./redis_store.ts";
import { RedisSharedFlight, type SharedFlight } from "./shared_flight.ts";

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

/** What `/health` and `isartor check` say about the persistent store. */
export interface StoreStatus {
  backend: string;
  /** Where it is (a path, or a Redis URL without its password). */
  target: string;
  /** Whether it answers now (a shared store); null when not known without a request. */
  answering: boolean | null;
  last_error?: string;
}

/** The persistent store and, in cluster mode, what replicas share besides it. */
export interface CacheBackends {
  store: ByteStore | null;
  /** Events between replicas (null without a shared store). */
  feed: (CacheFeed & { stats(): unknown; close(): Promise<void> }) | null;
  /** The cross-replica lock of the exact cache (null without a shared store). */
  flight: SharedFlight | null;
  status(): StoreStatus;
  /** Shared entries by layer (a SCAN: for the stats API only); null without a shared store. */
  sharedCounts(): Promise<{ l1a: number; l1b: number } | null>;
  /** Counts and (throttled) warns about this store's failures; the exact cache reports here too. */
  storeFailed: StoreFailureReporter;
}

/** Counts a failed store operation and maybe warns. */
export type StoreFailureReporter = (op: string, e: unknown) => void;

/** What a {@linkcode storeFailureReporter} may be given besides the metrics (tests). */
export interface StoreFailureOptions {
  now?: () => number;
  warn?: (line: string) => void;
}

/** At most one warning a minute per store: a broken store must not flood the log. */
const WARN_INTERVAL_MS = 60_000;

/**
 * The failure reporter of one store: each failure counts in
 * `isartor_cache_store_errors_total`; the warning is throttled per reporter,
 * so two stores (two gateways in one process) each warn.
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * const failed = storeFailureReporter(undefined, { warn: (l) => lines.push(l) });
 * failed("get", new Error("ECONNREFUSED"));
 * failed("set", new Error("ECONNREFUSED"));
 * lines.length; // 1
 * ```
 */
export function storeFailureReporter(
  metrics?: Metrics,
  options: StoreFailureOptions = {},
): StoreFailureReporter {
  const now = options.now ?? Date.now;
  const warn = options.warn ?? ((line: string) => console.warn(line));
  let lastWarning = -Infinity;
  return (op, e) => {
    metrics?.cacheStoreErrors.inc({ op });
    if (now() - lastWarning < WARN_INTERVAL_MS) return;
    lastWarning = now();
    warn(
      `[isartor] warning: cache store ${op} failed (${
        (e as Error)?.message ?? String(e)
      }); serving from memory and upstream until it is back`,
    );
  };
}

/** The cache backends `cache_backend` asks for. The exact and the semantic cache share the store. */
export function buildCacheBackends(
  config: Config,
  metrics?: Metrics,
  failure: StoreFailureOptions = {},
): CacheBackends {
  const storeFailed = storeFailureReporter(metrics, failure);
  if (config.cache_backend !== "redis") {
    const store = buildByteStore(config);
    return {
      store,
      feed: null,
      flight: null,
      status: () => ({
        backend: config.cache_backend,
        target: config.cache_backend === "kv" ? `${config.data_dir}/cache.kv` : "process memory",
        answering: null,
      }),
      sharedCounts: () => Promise.resolve(null),
      storeFailed,
    };
  }
  const url = redisUrlWithDb(config.redis_url, config.redis_db);
  const conn = RedisConnection.open({
    url,
    clusterNodes: config.redis_cluster_nodes,
    commandTimeoutMs: config.redis_command_timeout_ms,
    onError: (e) => storeFailed("connect", e),
  });
  const store = new RedisByteStore(conn, config.redis_key_prefix);
  const feed = new RedisCacheFeed(conn, store.base(["events"]), storeFailed);
  const flight = new RedisSharedFlight(
    conn,
    config.redis_lock_ttl_secs * 1000,
    (key) => store.base(["lock", ...key]),
    storeFailed,
  );
  const nodes = config.redis_cluster_nodes;
  return {
    store: {
      kind: store.kind,
      get: (k) => store.get(k),
      set: (k, v, t) => store.set(k, v, t),
      delete: (k) => store.delete(k),
      deletePrefix: (p) => store.deletePrefix(p),
      list: (p) => store.list(p),
      // The feed reads on its own connection, closed with the store.
      close: async () => {
        await feed.close();
        await store.close();
      },
    },
    feed,
    flight,
    status: () => ({
      backend: nodes.length ? "redis cluster" : "redis",
      target: nodes.length ? nodes.map(redactRedisUrl).join(",") : redactRedisUrl(url),
      answering: conn.ready,
      ...(conn.lastError && !conn.ready ? { last_error: conn.lastError } : {}),
    }),
    sharedCounts: async () => ({
      l1a: await store.count(["l1a"]),
      l1b: await store.count(["l1b"]),
    }),
    storeFailed,
  };
}

/**
 * The persistent store of a laptop: Deno KV opened on first use, or null for
 * "memory". (Redis comes with its feed and lock: {@linkcode buildCacheBackends}.)
 */
export function buildByteStore(config: Config): ByteStore | null {
  return config.cache_backend === "kv"
    ? new LazyByteStore("kv", () => KvByteStore.open(`${config.data_dir}/cache.kv`))
    : null;
}

/**
 * The recording cache of the exact layer, per config. Pass the store's
 * reporter (`CacheBackends.storeFailed`) so one store warns once a minute, not
 * once per user of it.
 */
export function buildRecordingCache(
  config: Config,
  metrics: Metrics,
  store?: ByteStore | null,
  feed?: CacheFeed | null,
  onStoreError: StoreFailureReporter = storeFailureReporter(metrics),
): RecordingCache {
  const persistent = store === undefined ? buildByteStore(config) : store;
  return new RecordingCache(persistent, {
    maxEntries: config.cache_max_capacity,
    maxBytes: config.cache_max_bytes,
    ttlMs: config.cache_ttl_secs * 1000,
    feed: feed ?? undefined,
    onStoreError,
  });
}
