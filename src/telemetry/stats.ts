/**
 * Request statistics: counters per layer, client tool and provider, tokens
 * spent and saved, the estimated cost saved, and the last requests.
 *
 * Recording is a few counter updates. The counters persist to
 * `<data_dir>/stats.json`, written in the background a few seconds after a
 * change and on close, and are loaded at start, so they survive restarts.
 *
 * @module
 */

import { FlushTimer } from "./flush_timer.ts";
import { costUsd, type Price, type PriceInfo } from "./prices.ts";

/** The layers that answer without calling the cloud. */
const DEFLECTING_LAYERS = new Set(["l1a", "l1b", "l2"]);
/** How many recent requests are kept. */
export const RECENT_LIMIT = 50;
/** Distinct client tools / providers tracked before the rest count as "other". */
const MAX_KEYS = 64;
const SNAPSHOT_VERSION = 1;

/** One finished request, as the edge saw it. Never contains prompts or keys. */
export interface RequestRecord {
  /** Epoch milliseconds when the request arrived. */
  time: number;
  /** The client tool (see client_tools.ts). */
  tool: string;
  /** The protocol the client spoke. */
  route: string;
  model: string;
  /** `l1a`, `l1b`, `l2`, `l3`, or `gateway` for a request the gateway refused. */
  layer: string;
  status: number;
  /** Time until the answer's headers, in milliseconds. */
  latencyMs: number;
  /** The provider that answered (or, for a cache hit, that answered originally). */
  provider: string;
  stream: boolean;
  inputTokens?: number;
  outputTokens?: number;
  /** Prompt tokens the provider served from its own prompt cache. */
  cachedTokens?: number;
  /** The similarity of an L1b hit. */
  similarity?: number;
  /** Prompt tokens (estimated) L2.5 removed from the request before it went upstream. */
  optimisedTokens?: number;
  /** The caller's tenant (a tag, never a key): scopes what a non-admin caller sees. */
  tenant?: string;
}

/** Counters of one tenant, kept in memory only (the persisted stats are the whole gateway's). */
interface TenantSlice {
  totals: Bucket;
  layers: Record<string, Bucket>;
  tools: Record<string, Bucket>;
  providers: Record<string, Bucket>;
  recent: RequestRecord[];
}

/** Tenants tracked in memory before the least recent is dropped. */
const MAX_TENANTS = 1024;

/** Counters of one slice of the traffic (all of it, one layer, one tool, one provider). */
export interface Bucket {
  requests: number;
  errors: number;
  /** Answered by a local layer (L1a, L1b, L2) without calling the cloud. */
  deflected: number;
  /** Tokens sent to and received from the cloud. */
  input_tokens: number;
  output_tokens: number;
  /** Tokens the cloud would have been paid for, had the deflected requests reached it. */
  saved_input_tokens: number;
  saved_output_tokens: number;
  /** Estimated USD saved (see `prices`). */
  saved_cost_usd: number;
  /** Sum of latencies, for the mean. */
  latency_ms_total: number;
  /** Requests L2.5 rewrote into a smaller prompt. */
  optimised_requests: number;
  /** Prompt tokens (estimated) L2.5 removed from them. */
  optimised_tokens_saved: number;
}

/**
 * The fields of a finished request wherever it is listed: the stats' recent
 * requests and the request log (request_log.ts) share this one mapping.
 */
export interface RequestFields {
  time: string;
  tool: string;
  route: string;
  model: string;
  layer: string;
  status: number;
  latency_ms: number;
  provider: string;
  stream: boolean;
  input_tokens: number | null;
  output_tokens: number | null;
}

/** A recent request as the stats API shows it. */
export interface RecentRequest extends RequestFields {
  deflected: boolean;
  /** The similarity of an L1b hit. */
  similarity?: number;
}

/** What persists across restarts. */
export interface StatsSnapshot {
  version: number;
  /** When counting started (the first start with this data directory). */
  since: string;
  updated_at: string;
  totals: Bucket;
  layers: Record<string, Bucket>;
  tools: Record<string, Bucket>;
  providers: Record<string, Bucket>;
  recent: RecentRequest[];
}

/** What `GET /api/v1/stats` answers. */
export interface StatsReport extends StatsSnapshot {
  /** Deflected requests over all requests, 0..1. */
  deflection_rate: number;
  /** The prices used for the cost figures: estimates unless set in `provider_prices`. */
  prices: Record<string, PriceInfo>;
  /** Providers seen that have no price (their savings count tokens, not dollars). */
  unpriced_providers: string[];
}

/** Options of {@linkcode Stats}. */
export interface StatsOptions {
  prices: Record<string, PriceInfo>;
  /** Where to persist; null keeps everything in memory. */
  path?: string | null;
  /** Delay between a change and the background write (default 5 s). */
  saveDelayMs?: number;
  now?: () => number;
  /** Where persistence problems are reported (default console.error). */
  warn?: (message: string) => void;
}

/** Whether a request was answered without calling the cloud (a local layer, no error). */
export function isDeflected(r: { layer: string; status: number }): boolean {
  return DEFLECTING_LAYERS.has(r.layer) && r.status < 400;
}

/**
 * The estimated USD a request saved: what its tokens would have cost at its
 * provider's price, had a deflected request reached the cloud; 0 otherwise
 * (not deflected, or a provider without a price).
 */
export function savedCostUsd(
  r: RequestRecord,
  prices: Readonly<Record<string, Price>>,
): number {
  const price = prices[r.provider];
  if (!price || !isDeflected(r)) return 0;
  return costUsd(price, r.inputTokens ?? 0, r.outputTokens ?? 0, r.cachedTokens);
}

/** An empty bucket. */
export function emptyBucket(): Bucket {
  return {
    requests: 0,
    errors: 0,
    deflected: 0,
    input_tokens: 0,
    output_tokens: 0,
    saved_input_tokens: 0,
    saved_output_tokens: 0,
    saved_cost_usd: 0,
    latency_ms_total: 0,
    optimised_requests: 0,
    optimised_tokens_saved: 0,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function toBucket(v: unknown): Bucket {
  const b = emptyBucket();
  if (!isRecord(v)) return b;
  for (const k of Object.keys(b) as (keyof Bucket)[]) {
    const x = v[k];
    if (typeof x === "number" && Number.isFinite(x) && x >= 0) b[k] = x;
  }
  return b;
}

function toBuckets(v: unknown): Record<string, Bucket> {
  const out: Record<string, Bucket> = {};
  if (!isRecord(v)) return out;
  for (const [k, b] of Object.entries(v).slice(0, MAX_KEYS)) out[k] = toBucket(b);
  return out;
}

function toRecent(v: unknown): RecentRequest[] {
  if (!Array.isArray(v)) return [];
  return v.filter((r): r is RecentRequest =>
    isRecord(r) && typeof r.time === "string" && typeof r.layer === "string" &&
    typeof r.status === "number"
  ).slice(-RECENT_LIMIT);
}

/** Validates a persisted snapshot; unknown or broken fields fall back to zero. */
export function parseSnapshot(v: unknown, now: number): StatsSnapshot {
  const o = isRecord(v) ? v : {};
  const stamp = new Date(now).toISOString();
  return {
    version: SNAPSHOT_VERSION,
    since: typeof o.since === "string" ? o.since : stamp,
    updated_at: typeof o.updated_at === "string" ? o.updated_at : stamp,
    totals: toBucket(o.totals),
    layers: toBuckets(o.layers),
    tools: toBuckets(o.tools),
    providers: toBuckets(o.providers),
    recent: toRecent(o.recent),
  };
}

/** A record's listed fields: ISO time, latency to 0.1 ms, unknown token counts as null. */
export function requestFields(r: RequestRecord): RequestFields {
  return {
    time: new Date(r.time).toISOString(),
    tool: r.tool,
    route: r.route,
    model: r.model,
    layer: r.layer,
    status: r.status,
    latency_ms: Math.round(r.latencyMs * 10) / 10,
    provider: r.provider,
    stream: r.stream,
    input_tokens: r.inputTokens ?? null,
    output_tokens: r.outputTokens ?? null,
  };
}

function formatRecent(r: RequestRecord): RecentRequest {
  // Split so the keys keep their order (deflected before the token counts).
  const { input_tokens, output_tokens, ...head } = requestFields(r);
  return {
    ...head,
    deflected: isDeflected(r),
    input_tokens,
    output_tokens,
    ...(r.similarity !== undefined ? { similarity: r.similarity } : {}),
  };
}

/** The gateway's request statistics. */
export class Stats {
  readonly #prices: Record<string, PriceInfo>;
  readonly #path: string | null;
  readonly #now: () => number;
  readonly #warn: (message: string) => void;
  #data: StatsSnapshot;
  /** Recent requests not yet formatted into `#data.recent`, oldest first. */
  #unformatted: RequestRecord[] = [];
  #updatedAt: number | null = null;
  #tenants = new Map<string, TenantSlice>();
  readonly #saveTimer: FlushTimer;
  #saving: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: StatsOptions) {
    this.#prices = options.prices;
    this.#path = options.path ?? null;
    this.#saveTimer = new FlushTimer(options.saveDelayMs ?? 5000, () => this.flush());
    this.#now = options.now ?? Date.now;
    this.#warn = options.warn ?? ((m) => console.error(`[isartor] ${m}`));
    this.#data = parseSnapshot({}, this.#now());
    if (this.#path) this.#load(this.#path);
  }

  #load(path: string): void {
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        this.#warn(`cannot read ${path} (${(e as Error).message}); stats start from zero`);
      }
      return;
    }
    try {
      this.#data = parseSnapshot(JSON.parse(text), this.#now());
    } catch {
      this.#warn(`${path} is not valid JSON; stats start from zero (the file is replaced)`);
    }
  }

  /** Counts one finished request. Cheap: counter updates and one ring-buffer push. */
  record(r: RequestRecord): void {
    const deflected = isDeflected(r);
    const input = r.inputTokens ?? 0;
    const output = r.outputTokens ?? 0;
    const saved = savedCostUsd(r, this.#prices);
    const d = this.#data;
    const buckets = [
      d.totals,
      this.#bucket(d.layers, r.layer),
      this.#bucket(d.tools, r.tool),
      this.#bucket(d.providers, r.provider || "none"),
    ];
    if (r.tenant !== undefined) {
      let t = this.#tenants.get(r.tenant);
      if (t) this.#tenants.delete(r.tenant);
      t ??= { totals: emptyBucket(), layers: {}, tools: {}, providers: {}, recent: [] };
      this.#tenants.set(r.tenant, t);
      if (this.#tenants.size > MAX_TENANTS) {
        this.#tenants.delete(this.#tenants.keys().next().value!);
      }
      buckets.push(
        t.totals,
        this.#bucket(t.layers, r.layer),
        this.#bucket(t.tools, r.tool),
        this.#bucket(t.providers, r.provider || "none"),
      );
      t.recent.push(r);
      if (t.recent.length > RECENT_LIMIT) t.recent.shift();
    }
    for (const b of buckets) {
      b.requests++;
      if (r.status >= 400) b.errors++;
      b.latency_ms_total += r.latencyMs;
      if (r.optimisedTokens !== undefined) {
        b.optimised_requests++;
        b.optimised_tokens_saved += r.optimisedTokens;
      }
      if (deflected) {
        b.deflected++;
        b.saved_input_tokens += input;
        b.saved_output_tokens += output;
        b.saved_cost_usd += saved;
      } else {
        b.input_tokens += input;
        b.output_tokens += output;
      }
    }
    // Formatted when read or saved, not here: the request path only keeps the record.
    this.#unformatted.push(r);
    if (this.#unformatted.length > 2 * RECENT_LIMIT) {
      this.#unformatted.splice(0, this.#unformatted.length - RECENT_LIMIT);
    }
    this.#updatedAt = this.#now();
    this.#scheduleSave();
  }

  #bucket(map: Record<string, Bucket>, key: string): Bucket {
    let b = map[key];
    if (!b) {
      const k = Object.keys(map).length < MAX_KEYS ? key : "other";
      b = map[k] ??= emptyBucket();
    }
    return b;
  }

  /**
   * The report served by the stats API: the whole gateway's, or with a
   * tenant, only that tenant's requests (counted since the start).
   */
  report(tenant?: string): StatsReport {
    const d = structuredClone(this.#formatted());
    if (tenant !== undefined) {
      const t = this.#tenants.get(tenant);
      d.totals = structuredClone(t?.totals ?? emptyBucket());
      d.layers = structuredClone(t?.layers ?? {});
      d.tools = structuredClone(t?.tools ?? {});
      d.providers = structuredClone(t?.providers ?? {});
      d.recent = (t?.recent ?? []).map(formatRecent);
    }
    const priced = (p: string) => p in this.#prices;
    return {
      ...d,
      deflection_rate: d.totals.requests ? d.totals.deflected / d.totals.requests : 0,
      prices: { ...this.#prices },
      unpriced_providers: Object.keys(d.providers).filter((p) => p !== "none" && !priced(p)),
    };
  }

  /** The snapshot with the recent requests recorded since the last call formatted in. */
  #formatted(): StatsSnapshot {
    const d = this.#data;
    for (const r of this.#unformatted) d.recent.push(formatRecent(r));
    this.#unformatted = [];
    if (d.recent.length > RECENT_LIMIT) d.recent.splice(0, d.recent.length - RECENT_LIMIT);
    if (this.#updatedAt !== null) d.updated_at = new Date(this.#updatedAt).toISOString();
    this.#updatedAt = null;
    return d;
  }

  /** The estimated USD a request saved, at this gateway's prices. */
  savedCost(r: RequestRecord): number {
    return savedCostUsd(r, this.#prices);
  }

  /** The price of a provider, if known. */
  price(provider: string): Price | undefined {
    return this.#prices[provider];
  }

  #scheduleSave(): void {
    if (!this.#path || this.#closed) return;
    this.#saveTimer.schedule();
  }

  /** Writes the counters now (atomically: a temporary file, then a rename). */
  flush(): Promise<void> {
    const path = this.#path;
    if (!path) return Promise.resolve();
    const text = JSON.stringify(this.#formatted());
    this.#saving = this.#saving.then(async () => {
      try {
        await Deno.writeTextFile(`${path}.tmp`, text, { mode: 0o600 });
        await Deno.rename(`${path}.tmp`, path);
      } catch (e) {
        this.#warn(`cannot write ${path}: ${(e as Error).message}`);
      }
    });
    return this.#saving;
  }

  /** Stops the background writer and writes a last time. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#saveTimer.cancel();
    await this.flush();
  }
}
