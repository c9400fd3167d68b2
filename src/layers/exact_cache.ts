/**
 * L1a, the exact cache: answers a request that was answered before, byte for
 * byte, from its recording.
 *
 * A key (docs/cache-key.md) lives under a partition of tenant and provider, so
 * two tenants never share an entry. Only complete answers are recorded.
 * Concurrent identical misses call the upstream once (single-flight): the
 * others wait for the leader's recording.
 *
 * @module
 */

import { cacheBypassReason, exactKey } from "../cache/cache_key.ts";
import type { StoreKey } from "../cache/byte_store.ts";
import { answerAndRecord, canReplay, type RecordDone, type Recording } from "../cache/recording.ts";
import { AnswerFlights, flightOutcome, joinFlight, type Settle } from "./flight.ts";
import type { SharedFlight } from "../cache/shared_flight.ts";
import { clientGone } from "./cloud.ts";
import type { RecordingCache } from "../cache/recording_cache.ts";
import { type RawFacts, RawKeyMemo } from "../cache/raw_fingerprint.ts";
import type { WireProtocol } from "../protocol/events.ts";
import type { Answer, ChatRequest, Layer, Next, RequestContext } from "../pipeline/types.ts";
import type { Metrics } from "../telemetry/metrics.ts";

/** Per-request cache directives from the client. */
export interface CacheDirectives {
  /** May the cache answer? (`no-cache` and `no-store` say no.) */
  read: boolean;
  /** May the answer be stored? (`no-store` says no.) */
  write: boolean;
}

/**
 * Reads `Cache-Control: no-cache` (skip the lookup, refresh the entry),
 * `Cache-Control: no-store` (neither read nor write) and `x-isartor-cache: off`.
 */
export function cacheDirectives(headers: Headers): CacheDirectives {
  if ((headers.get("x-isartor-cache") ?? "").trim().toLowerCase() === "off") {
    return { read: false, write: false };
  }
  const cc = (headers.get("cache-control") ?? "").toLowerCase();
  if (!cc) return { read: true, write: true };
  const parts = cc.split(",").map((s) => s.trim());
  if (parts.includes("no-store")) return { read: false, write: false };
  if (parts.includes("no-cache")) return { read: false, write: true };
  return { read: true, write: true };
}

/**
 * What a request's URL adds to its body: its query (forwarded, so keyed) and,
 * for Gemini, the model and the stream mode.
 */
export interface UrlFacts {
  model?: string;
  stream?: boolean;
  query?: string;
}

/** The URL facts of a decoded request. */
export function urlFacts(req: ChatRequest): UrlFacts {
  const out: UrlFacts = {};
  if (req.query) out.query = req.query;
  if (req.protocol === "gemini") {
    out.model = req.model;
    out.stream = req.stream;
  }
  return out;
}

/** Settings of the exact cache. */
export interface ExactCacheOptions {
  /** The provider partition (the primary provider's name). */
  provider: string;
  /**
   * The model the request will reach upstream (after aliases and the
   * provider's own model rules): what the answer comes from, so it is keyed.
   */
  upstreamModel: (protocol: WireProtocol, clientModel: string) => string;
  /** Cache requests that sample (temperature > 0 without a seed)? */
  cacheSampled: boolean;
  /** Replicas sharing a store: identical misses on different replicas call once. */
  sharedFlight?: SharedFlight | null;
}

/** Counters for the stats API. */
export interface ExactCacheCounters {
  hits: number;
  misses: number;
  stores: number;
  bypassed: number;
  coalesced: number;
}

/** The exact-cache layer. */
export class ExactCacheLayer implements Layer {
  readonly name = "l1a" as const;
  readonly spanName = "l1a_exact_cache";
  readonly counters: ExactCacheCounters = {
    hits: 0,
    misses: 0,
    stores: 0,
    bypassed: 0,
    coalesced: 0,
  };
  #flights = new AnswerFlights();
  #memo = new RawKeyMemo();

  constructor(
    readonly cache: RecordingCache,
    readonly options: ExactCacheOptions,
    readonly metrics: Metrics,
  ) {}

  /**
   * The store key of a request for a tenant. With the raw bytes, a repeat of
   * the same bytes skips canonicalization (see src/cache/raw_fingerprint.ts).
   */
  keyOf(
    protocol: WireProtocol,
    body: Record<string, unknown>,
    headers: Headers,
    tenant: string,
    raw?: Uint8Array,
    url: UrlFacts = {},
  ) {
    const fp = raw ? this.#fingerprint(protocol, headers, raw, url) : undefined;
    let digest = fp ? this.#memo.get(fp)?.digest : undefined;
    if (!digest) {
      const model = url.model ?? (typeof body.model === "string" ? body.model : "");
      digest = exactKey(
        protocol,
        body,
        this.options.upstreamModel(protocol, model),
        headers,
        url.query,
      );
      if (fp) {
        this.#memo.set(fp, {
          digest,
          model,
          stream: url.stream ?? body.stream === true,
          streamOptions: body.stream_options,
        });
      }
    }
    return { digest, key: ["l1a", tenant, this.options.provider, digest] as StoreKey };
  }

  #fingerprint(protocol: WireProtocol, headers: Headers, raw: Uint8Array, url: UrlFacts): string {
    // What the URL says is part of the request too (Gemini puts model and stream mode there).
    const context = `${protocol}\u0000${headers.get("anthropic-beta") ?? ""}\u0000${
      url.model ?? ""
    }\u0000${url.stream ?? ""}\u0000${url.query ?? ""}`;
    return this.#memo.fingerprint(context, raw);
  }

  /**
   * The hit for bytes seen before, without parsing them: the memo knows their
   * key and the fields a replay needs, since they were parsed, validated and
   * found cacheable the first time. Null when anything is unknown or the
   * cache has nothing (the caller then takes the normal path).
   */
  async hitForRawBytes(
    protocol: WireProtocol,
    raw: Uint8Array,
    headers: Headers,
    tenant: string,
    url: UrlFacts = {},
  ): Promise<{ answer: Answer; facts: RawFacts } | null> {
    if (!cacheDirectives(headers).read) return null;
    const facts = this.#memo.get(this.#fingerprint(protocol, headers, raw, url));
    if (!facts) return null;
    const rec = await this.cache.get(["l1a", tenant, this.options.provider, facts.digest]);
    if (!rec) return null;
    const wants = {
      protocol,
      stream: facts.stream,
      body: facts.streamOptions === undefined ? {} : { stream_options: facts.streamOptions },
    };
    if (!canReplay(rec, wants)) return null;
    return { answer: this.#hit(rec, facts.digest), facts };
  }

  /** The partition prefix of a tenant (for deletion). */
  tenantPrefix(tenant: string): StoreKey {
    return ["l1a", tenant];
  }

  /** Whether this request may use the cache at all; the reason when not. */
  bypassReason(req: ChatRequest): string | null {
    return cacheBypassReason(req.protocol, req.body, this.options.cacheSampled);
  }

  async handle(req: ChatRequest, ctx: RequestContext, next: Next): Promise<Answer> {
    const directives = cacheDirectives(req.headers);
    if ((!directives.read && !directives.write) || this.bypassReason(req)) {
      this.counters.bypassed++;
      this.metrics.cacheLookups.inc({ layer: "l1a", outcome: "bypass" });
      return next();
    }
    const { digest, key } = this.keyOf(
      req.protocol,
      req.body,
      req.headers,
      ctx.tenant,
      req.raw,
      urlFacts(req),
    );
    const id = key.join("\u0000");
    let settle: Settle | null = null;
    if (directives.read) {
      const rec = await this.cache.get(key);
      // A recording that cannot be re-encoded without loss serves only its own mode.
      if (rec && canReplay(rec, req)) return this.#hit(rec, digest);
      // An identical request in flight: take its answer or its error; else lead.
      const joined = await joinFlight(
        this.#flights,
        id,
        req,
        (r) => this.#hit(r, digest),
        () => this.counters.coalesced++,
        next,
      );
      if ("answer" in joined) return joined.answer;
      settle = joined.settle;
    }
    this.counters.misses++;
    this.metrics.cacheLookups.inc({ layer: "l1a", outcome: "miss" });
    if (!directives.write) {
      settle?.({ kind: "none" });
      return next();
    }
    settle ??= this.#flights.lead(id);
    // Across replicas: this process's leader takes the shared lock, or waits for another's answer.
    let release: (() => void) | undefined;
    const shared = this.options.sharedFlight;
    if (settle && shared && directives.read) {
      const claim = await shared.claim<Recording>(key, () => this.cache.get(key), req.signal);
      if (claim.kind === "answer" && canReplay(claim.value, req)) {
        this.counters.coalesced++;
        settle({ kind: "result", result: claim.value });
        return this.#hit(claim.value, digest);
      }
      if (claim.kind === "lead") release = claim.release;
      if (req.signal.aborted) {
        release?.();
        settle({ kind: "none" });
        throw clientGone();
      }
    }
    const done: RecordDone = (rec, failure) => {
      if (rec) {
        this.counters.stores++;
        // Writing never delays the client: the store is awaited in the background,
        // and the shared lock is released once the answer is there to be read.
        this.cache.set(key, rec).catch(() => {}).finally(() => release?.());
      } else release?.();
      settle?.(flightOutcome(rec, failure));
    };
    return await answerAndRecord(next, req, done);
  }

  #hit(rec: Recording, digest: string): Answer {
    this.counters.hits++;
    this.metrics.cacheLookups.inc({ layer: "l1a", outcome: "hit" });
    const age = Math.max(0, Math.floor((Date.now() - rec.createdAt) / 1000));
    return {
      layer: "l1a",
      status: 200,
      headers: {},
      protocol: rec.protocol,
      body: { kind: "recording", recording: rec },
      layerHeaders: { age: String(age), "x-isartor-cache-key": digest },
    };
  }
}
