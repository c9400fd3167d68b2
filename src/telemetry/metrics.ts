/**
 * A small Prometheus registry: counters and histograms, rendered in the text format.
 *
 * Hand-written because the hot path must stay allocation-light: a metric update
 * is one Map lookup on a precomputed label key.
 *
 * @module
 */

import { clientLabel } from "./client_tools.ts";
import { isDeflected, type RequestRecord } from "./stats.ts";

type Labels = Record<string, string>;

/** What {@linkcode Metrics.record} reads of a finished request. */
export type FinishedRequest = Pick<
  RequestRecord,
  | "layer"
  | "route"
  | "tool"
  | "status"
  | "latencyMs"
  | "inputTokens"
  | "outputTokens"
  | "optimisedTokens"
>;

const labelKeys = new Map<string, string>();

/**
 * The rendered label set, memoized: call sites pass the same few label
 * combinations again and again, so after the first time this is one lookup.
 */
function labelKey(labels: Labels): string {
  let raw = "";
  for (const k in labels) raw += `${k}\u0001${labels[k]}\u0002`;
  let key = labelKeys.get(raw);
  if (key === undefined) {
    const parts: string[] = [];
    for (const k of Object.keys(labels).sort()) {
      const v = labels[k].replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
      parts.push(`${k}="${v}"`);
    }
    key = parts.join(",");
    // Bounded: a label set that varies without limit still renders, uncached.
    if (labelKeys.size < 10_000) labelKeys.set(raw, key);
  }
  return key;
}

/** A monotonically increasing counter with labels. */
export class Counter {
  readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  /** Adds `n` (default 1) to the series with these labels. */
  inc(labels: Labels = {}, n = 1): void {
    this.incKey(labelKey(labels), n);
  }
  /** Adds `n` to the series of a rendered label set (as `inc` renders labels). */
  incKey(key: string, n = 1): void {
    this.values.set(key, (this.values.get(key) ?? 0) + n);
  }
  /** The current value of one series. */
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ""} ${v}`);
    return lines.join("\n");
  }
}

/** A gauge: a value that goes up and down. */
export class Gauge {
  readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  set(value: number, labels: Labels = {}): void {
    this.values.set(labelKey(labels), value);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ""} ${v}`);
    return lines.join("\n");
  }
}

/** Seconds: from a cache hit (tens of microseconds) to a long cloud answer. */
const DEFAULT_BUCKETS = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
];

/** A histogram of durations in seconds. */
export class Histogram {
  readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[] = DEFAULT_BUCKETS,
  ) {}
  observe(value: number, labels: Labels = {}): void {
    this.observeKey(value, labelKey(labels));
  }
  /** Counts `value` into the series of a rendered label set (as `inc` renders labels). */
  observeKey(value: number, key: string): void {
    let s = this.series.get(key);
    if (!s) this.series.set(key, s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 });
    // Per bucket, not cumulative: one increment per observation; render() adds them up.
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]) i++;
    if (i < this.buckets.length) s.counts[i]++;
    s.sum += value;
    s.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : "";
      let below = 0;
      this.buckets.forEach((b, i) => {
        below += s.counts[i];
        lines.push(`${this.name}_bucket{${sep}le="${b}"} ${below}`);
      });
      lines.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${k ? `{${k}}` : ""} ${s.sum}`);
      lines.push(`${this.name}_count${k ? `{${k}}` : ""} ${s.count}`);
    }
    return lines.join("\n");
  }
}

/**
 * The `final_layer` / `layer_name` spelling of each layer that dashboards
 * made for this kind of gateway already query (`final_layer="L3_Cloud"`).
 * `gateway` (refused by the gateway itself) is their `L0_AuthBlocked`.
 */
const COMPAT_LAYER: Readonly<Record<string, string>> = {
  gateway: "L0_AuthBlocked",
  l1a: "L1a_ExactCache",
  l1b: "L1b_SemanticCache",
  l2: "L2_SLM",
  l2_5: "L2_5_ContextOptimizer",
  l3: "L3_Cloud",
};

/** The compatible spelling of a layer (see {@linkcode COMPAT_LAYER}). */
export function compatLayer(layer: string): string {
  return COMPAT_LAYER[layer] ?? "other";
}

/**
 * The `endpoint_family` of a route (the protocol the client spoke, or
 * `native` for `POST /api/chat`): `openai`, `anthropic`, `gemini`, `native`.
 */
export function endpointFamily(route: string): string {
  if (route === "openai_chat" || route === "openai_responses") return "openai";
  if (route === "anthropic" || route === "gemini" || route === "native") return route;
  return "other";
}

/** The rendered label sets a request of one shape counts into. */
interface RequestSeries {
  requests: string;
  latency: string;
  savedInput: string;
  savedOutput: string;
  costSaved: string;
  /** L2.5's saved prompt tokens. */
  optimised: string;
}

function requestSeries(r: FinishedRequest, client: string): RequestSeries {
  const final_layer = compatLayer(r.layer);
  const endpoint_family = endpointFamily(r.route);
  const status = String(r.status);
  const saved = { layer: r.layer, final_layer, endpoint_family, client };
  return {
    requests: labelKey({
      layer: r.layer,
      final_layer,
      route: r.route,
      endpoint_family,
      status,
      status_code: status,
      client,
    }),
    latency: labelKey({ layer: r.layer, final_layer, endpoint_family }),
    savedInput: labelKey({ ...saved, direction: "input" }),
    savedOutput: labelKey({ ...saved, direction: "output" }),
    costSaved: labelKey(saved),
    optimised: labelKey({
      layer: "l2_5",
      final_layer: compatLayer("l2_5"),
      endpoint_family,
      client,
      direction: "input",
    }),
  };
}

/** The gateway's metrics. Every label takes its values from a bounded set. */
export class Metrics {
  readonly requests = new Counter(
    "isartor_requests_total",
    "Requests finished, by the layer that answered (layer, and final_layer in the compatible spelling), status (status, status_code), route, endpoint_family and client tool.",
  );
  readonly latency = new Histogram(
    "isartor_request_duration_seconds",
    "Time to the response headers, by the layer that answered and endpoint_family.",
  );
  readonly layerLatency = new Histogram(
    "isartor_layer_duration_seconds",
    "Each layer's own time per request (until it answered or passed on), by layer (layer_name: the compatible spelling) and outcome.",
  );
  readonly tokensSaved = new Counter(
    "isartor_tokens_saved_total",
    "Tokens the cloud was not paid for: the usage of answers a local layer served, and (layer l2_5, direction input) the prompt tokens the context optimiser removed (estimated), by layer, direction (input, output), endpoint_family and client.",
  );
  readonly costSaved = new Counter(
    "isartor_cost_saved_usd_total",
    "Estimated USD not spent: the saved tokens at the provider's price (provider_prices, else built-in list-price estimates), by layer, endpoint_family and client.",
  );
  readonly upstreamAttempts = new Counter(
    "isartor_upstream_attempts_total",
    "Upstream calls, by provider and outcome.",
  );
  readonly fallbacks = new Counter(
    "isartor_fallbacks_total",
    "Times the chain moved on to the next provider.",
  );
  readonly streamErrors = new Counter(
    "isartor_stream_errors_total",
    "Streams cut after bytes went to the client.",
  );
  readonly clientAborts = new Counter(
    "isartor_client_aborts_total",
    "Requests the client abandoned before the answer completed.",
  );
  readonly cacheLookups = new Counter(
    "isartor_cache_lookups_total",
    "Cache lookups, by layer and outcome (hit, miss, bypass).",
  );
  readonly semanticRejections = new Counter(
    "isartor_semantic_rejections_total",
    "L1b candidates above the threshold that a gate or the benign-difference check rejected, by reason.",
  );
  readonly cacheStoreErrors = new Counter(
    "isartor_cache_store_errors_total",
    "Cache store operations that failed and degraded to pass-through.",
  );
  readonly l2Decisions = new Counter(
    "isartor_l2_decisions_total",
    "What L2 decided per request: answered, or why it passed (not_eligible, busy, timeout, error, quality_*...).",
  );
  readonly startedAt = Date.now();

  readonly #layerKeys = new Map<string, string>();

  /** Counts one layer's turn (the pipeline's timer). */
  readonly observeLayer = (layer: string, outcome: string, seconds: number): void => {
    const shape = `${layer}\u0001${outcome}`;
    let key = this.#layerKeys.get(shape);
    if (key === undefined) {
      key = labelKey({ layer, layer_name: compatLayer(layer), outcome });
      this.#layerKeys.set(shape, key);
    }
    this.layerLatency.observeKey(seconds, key);
  };

  /** The series keys of each request shape seen (bounded: every part is a bounded label). */
  readonly #shapes = new Map<string, RequestSeries>();

  /**
   * Counts one finished request: its count, its latency and, when a local
   * layer answered, the tokens and the estimated cost it saved.
   */
  record(r: FinishedRequest, savedCostUsd: number): void {
    const client = clientLabel(r.tool);
    const shape = `${r.layer}\u0001${r.route}\u0001${r.status}\u0001${client}`;
    let k = this.#shapes.get(shape);
    if (!k) {
      k = requestSeries(r, client);
      if (this.#shapes.size < 4096) this.#shapes.set(shape, k);
    }
    this.requests.incKey(k.requests);
    this.latency.observeKey(r.latencyMs / 1000, k.latency);
    if (r.optimisedTokens) this.tokensSaved.incKey(k.optimised, r.optimisedTokens);
    if (!isDeflected(r)) return;
    if (r.inputTokens) this.tokensSaved.incKey(k.savedInput, r.inputTokens);
    if (r.outputTokens) this.tokensSaved.incKey(k.savedOutput, r.outputTokens);
    if (savedCostUsd > 0) this.costSaved.incKey(k.costSaved, savedCostUsd);
  }

  /** The Prometheus text exposition. */
  render(): string {
    const uptime = new Gauge("isartor_uptime_seconds", "Seconds since the gateway started.");
    uptime.set((Date.now() - this.startedAt) / 1000);
    return [
      this.requests,
      this.latency,
      this.layerLatency,
      this.tokensSaved,
      this.costSaved,
      this.upstreamAttempts,
      this.fallbacks,
      this.streamErrors,
      this.clientAborts,
      this.cacheLookups,
      this.semanticRejections,
      this.cacheStoreErrors,
      this.l2Decisions,
      uptime,
    ].map((m) => m.render()).join("\n") + "\n";
  }
}
