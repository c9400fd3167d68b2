/**
 * The cache's event feed between replicas that share one store: new semantic
 * entries (so each replica's in-memory index stays current) and deletions (so
 * each replica drops its in-memory copies). A replica never receives its own
 * events. Laptop mode has no feed.
 *
 * @module
 */

import type { StoreKey } from "./byte_store.ts";

/** One event on the feed. */
export type CacheEvent =
  | { type: "put"; key: StoreKey; value: Uint8Array }
  | { type: "delete"; prefix: StoreKey };

/** Events between replicas. */
export interface CacheFeed {
  /** Sends an event to the other replicas, best effort (never throws). */
  publish(event: CacheEvent): void;
  /** Calls `fn` for every event another replica publishes from now on. */
  subscribe(fn: (event: CacheEvent) => void): void;
}

/** Whether `key` lies under `prefix` (or is it). */
export function underPrefix(key: StoreKey, prefix: StoreKey): boolean {
  return prefix.length <= key.length && prefix.every((p, i) => key[i] === p);
}
