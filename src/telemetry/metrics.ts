/**
 * A small Prometheus registry: counters and histograms, rendered in the text format.
 *
 * Hand-written because the hot path must stay allocation-light: a metric update
 * is one Map lookup on a precomputed label key.
 *
 * @module
 */

type Labels = Record<string, string>;

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
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + n);
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

const DEFAULT_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60];

/** A histogram of durations in seconds. */
export class Histogram {
  readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[] = DEFAULT_BUCKETS,
  ) {}
  observe(value: number, labels: Labels = {}): void {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 });
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) s.counts[i]++;
    s.sum += value;
    s.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : "";
      this.buckets.forEach((b, i) =>
        lines.push(`${this.name}_bucket{${sep}le="${b}"} ${s.counts[i]}`)
      );
      lines.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${k ? `{${k}}` : ""} ${s.sum}`);
      lines.push(`${this.name}_count${k ? `{${k}}` : ""} ${s.count}`);
    }
    return lines.join("\n");
  }
}

/** The gateway's metrics. */
export class Metrics {
  readonly requests = new Counter(
    "isartor_requests_total",
    "Requests answered, by route, layer and status.",
  );
  readonly latency = new Histogram(
    "isartor_request_duration_seconds",
    "Time to the response headers, by layer.",
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
  readonly tokensSaved = new Counter(
    "isartor_tokens_saved_total",
    "Prompt tokens (estimated) a layer removed from requests sent upstream, by layer.",
  );
  readonly startedAt = Date.now();

  /** The Prometheus text exposition. */
  render(): string {
    const uptime = new Gauge("isartor_uptime_seconds", "Seconds since the gateway started.");
    uptime.set((Date.now() - this.startedAt) / 1000);
    return [
      this.requests,
      this.latency,
      this.upstreamAttempts,
      this.fallbacks,
      this.streamErrors,
      this.clientAborts,
      this.cacheLookups,
      this.semanticRejections,
      this.cacheStoreErrors,
      this.tokensSaved,
      uptime,
    ].map((m) => m.render()).join("\n") + "\n";
  }
}
