/**
 * The semantic index: one {@linkcode VectorIndex} per partition, with the
 * entries' gate features, bounded by entries per partition and in total (the
 * least recently used go first) and by age (`cache_ttl_secs`).
 *
 * A lookup takes the closest entries of the request's partition whose
 * similarity reaches the threshold, best first, and returns the first that
 * passes every lexical gate.
 *
 * @module
 */

import { type GateFeatures, gateMismatch } from "./lexical_gates.ts";
import { partitionId, type PartitionRef } from "./partition.ts";
import { VectorIndex } from "./vector_index.ts";

/** One cached question. */
export interface SemanticEntry {
  /** Stable id (the last element of its store keys). */
  readonly id: string;
  readonly ref: PartitionRef;
  /** The last user turn's text. */
  readonly text: string;
  readonly features: GateFeatures;
  /** When its answer was recorded (ms since the epoch). */
  readonly createdAt: number;
  /** Its handle in the partition's VectorIndex. */
  readonly handle: number;
}

/** Limits and clock of a SemanticIndex. */
export interface SemanticIndexOptions {
  dims: number;
  /** Most entries over all partitions. */
  maxEntries: number;
  /** Most entries in one partition. */
  maxEntriesPerPartition: number;
  ttlMs: number;
  now?: () => number;
  /** Passed to each VectorIndex. */
  rerank?: number;
  wasmFrom?: number;
}

/** What a lookup found. */
export interface Lookup {
  /** The best entry at or above the threshold that passed the gates. */
  match: { entry: SemanticEntry; similarity: number } | null;
  /** The gate that rejected the closest candidate at or above the threshold, if one did. */
  rejectedBy: string | null;
  /** The reason of each candidate at or above the threshold that was rejected, closest first. */
  rejections: string[];
}

/** Counters for stats. */
export interface SemanticIndexStats {
  entries: number;
  partitions: number;
  maxEntries: number;
  maxEntriesPerPartition: number;
}

interface Partition {
  index: VectorIndex;
  /** Entries by handle, least recently used first. */
  entries: Map<number, SemanticEntry>;
  /** Entries by text (one per text: a new answer to the same text replaces the old). */
  byText: Map<string, SemanticEntry>;
}

/** How many candidates above the threshold are tried against the gates. */
export const GATE_CANDIDATES = 8;

/** Vectors by partition, with LRU and TTL. */
export class SemanticIndex {
  #partitions = new Map<string, Partition>();
  /** Every entry by handle, least recently used first. */
  #lru = new Map<number, SemanticEntry>();
  #nextHandle = 1;
  #now: () => number;
  #lastSweep = 0;

  constructor(readonly options: SemanticIndexOptions) {
    this.#now = options.now ?? Date.now;
  }

  /** How many entries the index holds. */
  get size(): number {
    return this.#lru.size;
  }

  /**
   * The `k` entries of `ref`'s partition closest to `vector` with a
   * similarity of at least `min`, best first, gates not applied; expired
   * entries are dropped on the way.
   */
  candidates(
    ref: PartitionRef,
    vector: Float32Array,
    k: number,
    min: number,
  ): { entry: SemanticEntry; similarity: number }[] {
    const part = this.#partitions.get(partitionId(ref));
    if (!part) return [];
    const now = this.#now();
    const out: { entry: SemanticEntry; similarity: number }[] = [];
    // Similarities count to four decimals (as `X-Isartor-Similarity` shows them).
    for (const hit of part.index.search(vector, k, min - 0.00005)) {
      const entry = part.entries.get(hit.handle);
      if (!entry) continue;
      const similarity = Math.min(1, Math.round(hit.similarity * 10_000) / 10_000);
      if (similarity < min) continue;
      if (this.#expired(entry, now)) this.remove(entry);
      else out.push({ entry, similarity });
    }
    return out;
  }

  /**
   * The best entry of `ref`'s partition at or above `threshold` that passes
   * the lexical gates against `features`. A match becomes the most recently used.
   */
  lookup(
    ref: PartitionRef,
    vector: Float32Array,
    threshold: number,
    features: GateFeatures,
  ): Lookup {
    const rejections: string[] = [];
    for (const c of this.candidates(ref, vector, GATE_CANDIDATES, threshold)) {
      const gate = gateMismatch(features, c.entry.features);
      if (gate) {
        rejections.push(gate);
        continue;
      }
      this.#touch(this.#partitions.get(partitionId(ref))!, c.entry);
      return { match: c, rejectedBy: rejections[0] ?? null, rejections };
    }
    return { match: null, rejectedBy: rejections[0] ?? null, rejections };
  }

  /** The entry of `ref`'s partition with exactly this text, if any. */
  findText(ref: PartitionRef, text: string): SemanticEntry | undefined {
    const part = this.#partitions.get(partitionId(ref));
    return part?.byText.get(text);
  }

  /** The entry of `ref`'s partition with this id, if any (for deletions announced by other replicas). */
  findId(ref: PartitionRef, id: string): SemanticEntry | undefined {
    const part = this.#partitions.get(partitionId(ref));
    if (!part) return undefined;
    for (const e of part.entries.values()) if (e.id === id) return e;
    return undefined;
  }

  /**
   * Adds an entry; returns it and the entries evicted to make room (the
   * caller deletes their stored copies).
   */
  add(
    ref: PartitionRef,
    fields: { id: string; text: string; features: GateFeatures; createdAt: number },
    vector: Float32Array,
  ): { entry: SemanticEntry; evicted: SemanticEntry[] } {
    const evicted = this.#sweep();
    const same = this.findText(ref, fields.text);
    if (same) {
      this.remove(same);
      evicted.push(same);
    }
    const key = partitionId(ref);
    let part = this.#partitions.get(key);
    if (!part) {
      part = {
        index: new VectorIndex(this.options.dims, {
          rerank: this.options.rerank,
          wasmFrom: this.options.wasmFrom,
        }),
        entries: new Map(),
        byText: new Map(),
      };
      this.#partitions.set(key, part);
    }
    const entry: SemanticEntry = { ...fields, ref, handle: this.#nextHandle++ };
    part.index.add(entry.handle, vector);
    part.entries.set(entry.handle, entry);
    part.byText.set(entry.text, entry);
    this.#lru.set(entry.handle, entry);
    while (part.entries.size > this.options.maxEntriesPerPartition) {
      const oldest = part.entries.values().next().value!;
      this.remove(oldest);
      evicted.push(oldest);
    }
    while (this.#lru.size > this.options.maxEntries) {
      const oldest = this.#lru.values().next().value!;
      this.remove(oldest);
      evicted.push(oldest);
    }
    return { entry, evicted };
  }

  /** Removes an entry (no-op if it is gone). */
  remove(entry: SemanticEntry): void {
    const key = partitionId(entry.ref);
    const part = this.#partitions.get(key);
    if (!part || !part.entries.delete(entry.handle)) return;
    part.index.remove(entry.handle);
    if (part.byText.get(entry.text) === entry) part.byText.delete(entry.text);
    this.#lru.delete(entry.handle);
    if (part.entries.size === 0) this.#partitions.delete(key);
  }

  /** Removes every entry of a tenant; returns them. */
  removeTenant(tenant: string): SemanticEntry[] {
    const gone = [...this.#lru.values()].filter((e) => e.ref.tenant === tenant);
    for (const e of gone) this.remove(e);
    return gone;
  }

  stats(): SemanticIndexStats {
    return {
      entries: this.#lru.size,
      partitions: this.#partitions.size,
      maxEntries: this.options.maxEntries,
      maxEntriesPerPartition: this.options.maxEntriesPerPartition,
    };
  }

  #expired(entry: SemanticEntry, now: number): boolean {
    return entry.createdAt + this.options.ttlMs <= now;
  }

  #touch(part: Partition, entry: SemanticEntry): void {
    part.entries.delete(entry.handle);
    part.entries.set(entry.handle, entry);
    this.#lru.delete(entry.handle);
    this.#lru.set(entry.handle, entry);
  }

  /** Drops expired entries, at most once a minute (lookups skip them in between). */
  #sweep(): SemanticEntry[] {
    const now = this.#now();
    if (now - this.#lastSweep < 60_000) return [];
    this.#lastSweep = now;
    const gone = [...this.#lru.values()].filter((e) => this.#expired(e, now));
    for (const e of gone) this.remove(e);
    return gone;
  }
}
