/**
 * L1b, the semantic cache: answers a request whose last user turn means what
 * an earlier one in the same partition meant, from that one's recording.
 *
 * - The key is the embedding of the last user turn only; a match is searched
 *   only inside the partition that hashes everything else (tenant, provider,
 *   model, system prompt, tools, parameters, earlier turns): see
 *   `src/semantic/partition.ts`.
 * - The embedder only ranks: a candidate above the threshold is a hit only if
 *   the lexical gates agree (numbers, negations and opposites, identifiers,
 *   quoted strings, paths, URLs, names) and every other difference between
 *   the two last turns is benign (src/semantic/benign_diff.ts: filler,
 *   function words, inflections, WordNet synonyms; the shared words in one
 *   order). Each rejected candidate counts in
 *   `isartor_semantic_rejections_total{reason}`.
 * - No lookup when the last turn carries tool results or images, when the
 *   request forbids caching, or when the embedder fails (the request passes on).
 * - A hit replays the matched recording exactly as L1a replays its own, with
 *   `X-Isartor-Layer: l1b` and `X-Isartor-Similarity`.
 * - On a miss the answer is recorded (JSON at once, a stream when it completes)
 *   and indexed with the query's vector; entries and recordings persist in the
 *   store, and the first request after a start rebuilds the index from it.
 *
 * @module
 */

import { cacheBypassReason } from "../cache/cache_key.ts";
import type { ByteStore, StoreKey } from "../cache/byte_store.ts";
import type { CacheEvent, CacheFeed } from "../cache/cache_feed.ts";
import { answerAndRecord, canReplay, type RecordDone, type Recording } from "../cache/recording.ts";
import { AnswerFlights, flightOutcome, joinFlight, type Settle } from "./flight.ts";
import { RecordingCache } from "../cache/recording_cache.ts";
import type { Embedder } from "../embed/embedder.ts";
import type { WireProtocol } from "../protocol/events.ts";
import type { Answer, ChatRequest, Layer, Next, RequestContext } from "../pipeline/types.ts";
import { gateFeatures } from "../semantic/lexical_gates.ts";
import { lastUserTurn } from "../semantic/last_turn.ts";
import { loadSynonyms } from "../semantic/synonyms.ts";
import { partitionDigest, partitionId, type PartitionRef } from "../semantic/partition.ts";
import {
  ANSWER_PREFIX,
  answerKey,
  decodeEntry,
  encodeEntry,
  ENTRY_PREFIX,
  entryKey,
  loadEntries,
  type StoredEntry,
} from "../semantic/persist.ts";
import { type SemanticEntry, SemanticIndex } from "../semantic/semantic_index.ts";
import type { Metrics } from "../telemetry/metrics.ts";
import { cacheDirectives } from "./exact_cache.ts";

/** Settings of the semantic cache. */
export interface SemanticCacheOptions {
  /** The provider partition (the primary provider's name). */
  provider: string;
  /** The model the request will reach upstream (see ExactCacheOptions.upstreamModel). */
  upstreamModel: (protocol: WireProtocol, clientModel: string) => string;
  /** Cache requests that sample (temperature > 0 without a seed)? */
  cacheSampled: boolean;
  /** Cosine similarity a match needs. */
  threshold: number;
  ttlMs: number;
  /** Most entries over all partitions. */
  maxEntries: number;
  maxEntriesPerPartition: number;
  /** Most bytes of recordings kept in memory (the store keeps the rest). */
  maxBytes: number;
  /**
   * Replicas sharing the store: new entries and deletions arrive from the
   * others and keep the in-memory index current; local evictions then leave
   * the shared entries alone (Redis `maxmemory` bounds the shared set).
   */
  feed?: CacheFeed | null;
  /** Longest wait for an embedding before the request passes on (default 2000 ms). */
  embedTimeoutMs?: number;
  now?: () => number;
}

/** Counters for the stats API. */
export interface SemanticCacheCounters {
  hits: number;
  misses: number;
  stores: number;
  bypassed: number;
  coalesced: number;
  /** Lookups whose closest candidate above the threshold a gate or the benign check rejected. */
  gate_rejections: number;
  embed_errors: number;
}

/**
 * Longer last turns are left to the exact cache: an embedding sees only the
 * head of a long text (MiniLM reads 256 tokens), so two long texts that differ
 * further down could look alike.
 */
export const MAX_TURN_CHARS = 2000;

/** The longest a request waits for the index to be rebuilt from the store. */
const REBUILD_WAIT_MS = 1000;

/** The semantic-cache layer. */
export class SemanticCacheLayer implements Layer {
  readonly name = "l1b" as const;
  readonly spanName = "l1b_semantic_cache";
  readonly counters: SemanticCacheCounters = {
    hits: 0,
    misses: 0,
    stores: 0,
    bypassed: 0,
    coalesced: 0,
    gate_rejections: 0,
    embed_errors: 0,
  };
  readonly index: SemanticIndex;
  /** Recordings of the entries (memory LRU in front of the store). */
  readonly answers: RecordingCache;
  readonly #embedderId: string;
  #flights = new AnswerFlights();
  #now: () => number;
  #embedFailing = false;
  #lastStoreWarning = 0;
  #rebuilding: Promise<void> | null = null;
  #rebuilt = false;

  constructor(
    readonly embedder: Embedder,
    readonly store: ByteStore | null,
    readonly options: SemanticCacheOptions,
    readonly metrics: Metrics,
  ) {
    this.#now = options.now ?? Date.now;
    // The WordNet table (about 15 MiB, 0.1 s to parse) loads once, now, not in the first request.
    loadSynonyms();
    this.#embedderId = `${embedder.name}:${embedder.model}`;
    this.index = new SemanticIndex({
      dims: embedder.dims,
      maxEntries: options.maxEntries,
      maxEntriesPerPartition: options.maxEntriesPerPartition,
      ttlMs: options.ttlMs,
      now: this.#now,
    });
    this.answers = new RecordingCache(store, {
      maxEntries: options.maxEntries,
      maxBytes: options.maxBytes,
      ttlMs: options.ttlMs,
      now: this.#now,
      onStoreError: (op, e) => this.#storeFailed(op, e),
      feed: options.feed ?? undefined,
    });
    options.feed?.subscribe((e) => this.#onFeed(e));
  }

  /**
   * Rebuilds the index from the store, once (started by the first request, as
   * the store opens on first use); settles when done.
   */
  whenReady(): Promise<void> {
    return this.#rebuilding ??= this.#rebuild();
  }

  /** One line for `/health` and `isartor check`. */
  describe(): string {
    const e = this.embedder;
    return `on (embedder ${e.name}: ${e.model}, ${e.dims} dims, threshold ${this.options.threshold}, benign differences only; ${this.answers.stats().backend})`;
  }

  /** Whether this request may use the cache at all; the reason when not. */
  bypassReason(req: ChatRequest): string | null {
    return cacheBypassReason(req.protocol, req.body, this.options.cacheSampled);
  }

  async handle(req: ChatRequest, ctx: RequestContext, next: Next): Promise<Answer> {
    const directives = cacheDirectives(req.headers);
    const split = lastUserTurn(req.protocol, req.body);
    if (
      (!directives.read && !directives.write) || !split.ok ||
      split.value.text.length > MAX_TURN_CHARS || this.bypassReason(req)
    ) {
      return this.#bypass(next);
    }
    const { text } = split.value;
    const model = req.model;
    const ref: PartitionRef = {
      tenant: ctx.tenant,
      provider: this.options.provider,
      digest: partitionDigest(
        req.protocol,
        split.value,
        this.options.upstreamModel(req.protocol, model),
        req.headers,
        this.#embedderId,
        req.query,
      ),
    };
    let vector: Float32Array;
    try {
      vector = await this.#embed(text);
    } catch (e) {
      this.#embedFailed(e);
      return this.#bypass(next);
    }
    const features = gateFeatures(text);
    const flight = `${partitionId(ref)}\u0000${text}`;
    if (!this.#rebuilt) await this.#waitForRebuild();
    let settle: Settle | null = null;
    if (directives.read) {
      const found = this.index.lookup(ref, vector, this.options.threshold, features);
      for (const reason of found.rejections) this.metrics.semanticRejections.inc({ reason });
      if (found.match) {
        const rec = await this.answers.get(answerKey(ref, found.match.entry.id));
        if (rec && canReplay(rec, req)) return this.#hit(rec, found.match.similarity);
        // The recording is gone (evicted or expired): so is the entry.
        this.#forget([found.match.entry]);
      } else if (found.rejectedBy) {
        this.counters.gate_rejections++;
      }
      const joined = await joinFlight(
        this.#flights,
        flight,
        req,
        (r) => this.#hit(r, 1),
        () => this.counters.coalesced++,
        next,
      );
      if ("answer" in joined) return joined.answer;
      settle = joined.settle;
    }
    this.counters.misses++;
    this.metrics.cacheLookups.inc({ layer: "l1b", outcome: "miss" });
    if (!directives.write) {
      settle?.({ kind: "none" });
      return next();
    }
    settle ??= this.#flights.lead(flight);
    const done: RecordDone = (rec, failure) => {
      if (rec) this.#remember(ref, text, features, vector, rec);
      settle?.(flightOutcome(rec, failure));
    };
    return await answerAndRecord(next, req, done, this.#now);
  }

  /** Deletes every entry of a tenant (memory and store); returns how many went. */
  async deleteTenant(tenant: string): Promise<number> {
    await this.whenReady();
    const gone = this.index.removeTenant(tenant);
    await this.answers.deletePrefix([ANSWER_PREFIX, tenant]);
    try {
      return Math.max(gone.length, await this.store?.deletePrefix([ENTRY_PREFIX, tenant]) ?? 0);
    } catch (e) {
      this.#storeFailed("delete", e);
      return gone.length;
    }
  }

  /** Releases the embedder (the store belongs to the composition root). */
  async close(): Promise<void> {
    await this.#rebuilding;
    await this.embedder.close();
  }

  /** Waits for the rebuild, but never long: a request meanwhile simply misses. */
  async #waitForRebuild(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.whenReady(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, REBUILD_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  #bypass(next: Next): Promise<Answer> {
    this.counters.bypassed++;
    this.metrics.cacheLookups.inc({ layer: "l1b", outcome: "bypass" });
    return next();
  }

  async #embed(text: string): Promise<Float32Array> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("embedding timed out")),
        this.options.embedTimeoutMs ?? 2000,
      );
    });
    try {
      const [v] = await Promise.race([this.embedder.embed([text]), timeout]);
      if (!v || v.length !== this.embedder.dims) throw new Error("embedder returned no vector");
      this.#embedFailing = false;
      return v;
    } finally {
      clearTimeout(timer);
    }
  }

  #embedFailed(e: unknown): void {
    this.counters.embed_errors++;
    if (this.#embedFailing) return;
    // Once per failure streak: a broken embedder must not flood the log.
    this.#embedFailing = true;
    console.warn(
      `[isartor] warning: the ${this.embedder.name} embedder failed (${
        (e as Error).message
      }); L1b passes requests on until it recovers`,
    );
  }

  #hit(rec: Recording, similarity: number): Answer {
    this.counters.hits++;
    this.metrics.cacheLookups.inc({ layer: "l1b", outcome: "hit" });
    const age = Math.max(0, Math.floor((this.#now() - rec.createdAt) / 1000));
    return {
      layer: "l1b",
      status: 200,
      headers: {},
      protocol: rec.protocol,
      body: { kind: "recording", recording: rec },
      layerHeaders: { age: String(age), "x-isartor-similarity": similarity.toFixed(4) },
    };
  }

  /** Indexes a new answer and writes it to the store in the background. */
  #remember(
    ref: PartitionRef,
    text: string,
    features: ReturnType<typeof gateFeatures>,
    vector: Float32Array,
    rec: Recording,
  ): void {
    this.counters.stores++;
    const id = crypto.randomUUID();
    const { evicted } = this.index.add(
      ref,
      { id, text, features, createdAt: rec.createdAt },
      vector,
    );
    this.#forget(evicted);
    // Writing never delays the client. The recording goes first: another
    // replica that sees the entry must find its answer.
    const answered = this.answers.set(answerKey(ref, id), rec).catch(() => {});
    if (!this.store) return;
    const bytes = encodeEntry({
      embedder: this.#embedderId,
      text,
      createdAt: rec.createdAt,
      vector,
    });
    const key = entryKey(ref, id);
    answered.then(() => this.store!.set(key, bytes, this.options.ttlMs))
      .then(() => this.options.feed?.publish({ type: "put", key, value: bytes }))
      .catch((e) => this.#storeFailed("set", e));
  }

  /** Another replica's new entry or deletion. */
  #onFeed(e: CacheEvent): void {
    if (e.type === "put") {
      const entry = decodeEntry(e.key, e.value);
      if (entry) this.#addStored(entry);
      return;
    }
    const p: StoreKey = e.prefix;
    if (p[0] !== ANSWER_PREFIX && p[0] !== ENTRY_PREFIX) return;
    if (p.length === 2) this.index.removeTenant(p[1]);
    else if (p.length === 5) {
      const found = this.index.findId({ tenant: p[1], provider: p[2], digest: p[3] }, p[4]);
      if (found) this.index.remove(found);
    }
  }

  /** Adds a stored entry (from the store at start, or from the feed) unless it is known or stale. */
  #addStored(e: StoredEntry): void {
    if (e.embedder !== this.#embedderId || e.vector.length !== this.embedder.dims) return;
    if (e.createdAt + this.options.ttlMs <= this.#now()) return;
    // The same text answered here or seen before: the newer answer wins.
    const same = this.index.findText(e.ref, e.text);
    if (same && same.createdAt >= e.createdAt) return;
    const { evicted } = this.index.add(
      e.ref,
      { id: e.id, text: e.text, features: gateFeatures(e.text), createdAt: e.createdAt },
      e.vector,
    );
    this.#forget(evicted);
  }

  /**
   * Drops entries from the index, their recordings and their stored records
   * (with a shared store, only this replica's copies).
   */
  #forget(entries: SemanticEntry[]): void {
    for (const e of entries) {
      this.index.remove(e);
      if (this.options.feed) {
        this.answers.forgetLocal(answerKey(e.ref, e.id));
        continue;
      }
      this.answers.deletePrefix(answerKey(e.ref, e.id)).catch(() => {});
      this.store?.delete(entryKey(e.ref, e.id)).catch((err) => this.#storeFailed("delete", err));
    }
  }

  /** Loads the stored entries into the index. */
  async #rebuild(): Promise<void> {
    await this.#load();
    this.#rebuilt = true;
  }

  async #load(): Promise<void> {
    if (!this.store?.list) return;
    try {
      const now = this.#now();
      const entries = await loadEntries(
        this.store,
        this.#embedderId,
        this.embedder.dims,
        now - this.options.ttlMs,
      );
      for (const e of entries) {
        // An entry stored by this process meanwhile wins (same text, newer answer).
        if (this.index.findText(e.ref, e.text)) continue;
        this.#addStored(e);
      }
    } catch (e) {
      this.#storeFailed("list", e);
    }
  }

  #storeFailed(op: string, e: unknown): void {
    this.metrics.cacheStoreErrors.inc({ op });
    // One line a minute at most: a broken disk must not flood the log.
    if (Date.now() - this.#lastStoreWarning > 60_000) {
      this.#lastStoreWarning = Date.now();
      console.warn(
        `[isartor] warning: semantic cache store ${op} failed (${
          (e as Error).message
        }); serving without the persistent cache`,
      );
    }
  }
}
