/**
 * The recording cache: an in-memory LRU of decoded recordings (bounded by
 * entries and bytes) in front of an optional persistent ByteStore.
 *
 * Memory hits never touch the store or decode anything. A store that fails
 * (disk full, locked file, Redis down) degrades to memory-only behaviour with a
 * warning and a metric: the request always succeeds.
 *
 * @module
 */

import type { ByteStore, StoreKey } from "./byte_store.ts";
import type { CacheFeed } from "./cache_feed.ts";
import { decodeRecording, encodeRecording, type Recording } from "./recording.ts";

/** Limits and clock of a RecordingCache. */
export interface RecordingCacheOptions {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
  now?: () => number;
  /** Called when the persistent store fails (for the warning and the metric). */
  onStoreError?: (op: string, error: unknown) => void;
  /**
   * Replicas sharing the store: deletions are announced on it, and other
   * replicas' deletions drop the in-memory copies here.
   */
  feed?: CacheFeed;
}

interface Slot {
  rec: Recording;
  bytes: number;
  expiresAt: number;
}

/** Counters for the stats API. */
export interface RecordingCacheStats {
  entries: number;
  bytes: number;
  maxEntries: number;
  maxBytes: number;
  storeErrors: number;
  backend: string;
}

/** Recordings by key, in memory and (optionally) on a persistent store. */
export class RecordingCache {
  #lru = new Map<string, Slot>();
  #bytes = 0;
  #storeErrors = 0;
  #now: () => number;

  constructor(readonly store: ByteStore | null, readonly options: RecordingCacheOptions) {
    this.#now = options.now ?? Date.now;
    options.feed?.subscribe((e) => {
      if (e.type === "delete") this.forgetLocal(e.prefix);
    });
  }

  /** The recording under `key`, if present and fresh. */
  async get(key: StoreKey): Promise<Recording | null> {
    const id = key.join("\u0000");
    const slot = this.#lru.get(id);
    const now = this.#now();
    if (slot) {
      if (slot.expiresAt > now) {
        // Refresh recency: Map keeps insertion order, so re-insert at the end.
        this.#lru.delete(id);
        this.#lru.set(id, slot);
        return slot.rec;
      }
      this.#drop(id, slot);
    }
    if (!this.store) return null;
    let bytes: Uint8Array | null;
    try {
      bytes = await this.store.get(key);
    } catch (e) {
      this.#failed("get", e);
      return null;
    }
    if (!bytes) return null;
    const rec = decodeRecording(bytes);
    if (!rec) return null;
    const expiresAt = rec.createdAt + this.options.ttlMs;
    if (expiresAt <= now) return null;
    this.#remember(id, { rec, bytes: bytes.byteLength, expiresAt });
    return rec;
  }

  /** Stores a recording in memory and, best effort, in the persistent store. */
  async set(key: StoreKey, rec: Recording): Promise<void> {
    const bytes = encodeRecording(rec);
    this.#remember(key.join("\u0000"), {
      rec,
      bytes: bytes.byteLength,
      expiresAt: rec.createdAt + this.options.ttlMs,
    });
    if (!this.store) return;
    try {
      await this.store.set(key, bytes, this.options.ttlMs);
    } catch (e) {
      this.#failed("set", e);
    }
  }

  /** Drops the in-memory copies under a key prefix (the store keeps its own); returns how many. */
  forgetLocal(prefix: StoreKey): number {
    const start = prefix.join("\u0000");
    let n = 0;
    for (const [id, slot] of [...this.#lru]) {
      if (id === start || id.startsWith(start + "\u0000")) {
        this.#drop(id, slot);
        n++;
      }
    }
    return n;
  }

  /** Deletes every entry under a key prefix (memory and store, every replica); returns how many went. */
  async deletePrefix(prefix: StoreKey): Promise<number> {
    const n = this.forgetLocal(prefix);
    if (!this.store) return n;
    try {
      return Math.max(n, await this.store.deletePrefix(prefix));
    } catch (e) {
      this.#failed("delete", e);
      return n;
    } finally {
      // After the store: a replica told earlier could read the entry back.
      this.options.feed?.publish({ type: "delete", prefix });
    }
  }

  stats(): RecordingCacheStats {
    return {
      entries: this.#lru.size,
      bytes: this.#bytes,
      maxEntries: this.options.maxEntries,
      maxBytes: this.options.maxBytes,
      storeErrors: this.#storeErrors,
      backend: this.store ? `memory+${this.store.kind}` : "memory",
    };
  }

  async close(): Promise<void> {
    await this.store?.close();
  }

  #remember(id: string, slot: Slot): void {
    const old = this.#lru.get(id);
    if (old) this.#drop(id, old);
    // An entry larger than the whole budget lives only in the persistent store.
    if (slot.bytes > this.options.maxBytes) return;
    this.#lru.set(id, slot);
    this.#bytes += slot.bytes;
    for (const [oldest, s] of this.#lru) {
      if (this.#lru.size <= this.options.maxEntries && this.#bytes <= this.options.maxBytes) break;
      this.#drop(oldest, s);
    }
  }

  #drop(id: string, slot: Slot): void {
    if (this.#lru.delete(id)) this.#bytes -= slot.bytes;
  }

  #failed(op: string, e: unknown): void {
    this.#storeErrors++;
    this.options.onStoreError?.(op, e);
  }
}
