/**
 * Time to first byte of streamed answers: from just before the request is sent to the arrival of
 * the first body chunk, over keep-alive `fetch`, one request at a time.
 *
 * @module
 */

import { type SampleSummary, summarize } from "./stats.ts";

/** Where to send streaming requests. */
export interface TtfbTarget {
  /** Label, e.g. `direct` or `gateway`. */
  name: string;
  /** Full URL of the endpoint. */
  url: string;
}

/** Timing of one streamed request, in ms. */
export interface TtfbSample {
  /** Request start to first body chunk. */
  ttfb_ms: number;
  /** Request start to end of stream. */
  total_ms: number;
}

/** TTFB and full-stream time distributions of one target. */
export interface TtfbStats {
  ttfb: SampleSummary;
  total: SampleSummary;
  errors: number;
}

/**
 * Sends one streaming request and times its first body chunk and its end. Throws unless the
 * answer is a 2xx `text/event-stream` with a non-empty body.
 *
 * @example
 * ```ts ignore
 * const s = await timeFirstByte(`${gw}/v1/chat/completions`, body, headers, client);
 * console.log(s.ttfb_ms);
 * ```
 */
export async function timeFirstByte(
  url: string,
  body: string,
  headers: Headers,
  client: Deno.HttpClient,
): Promise<TtfbSample> {
  const t0 = performance.now();
  const res = await fetch(url, { method: "POST", headers, body, client });
  if (!res.body) throw new Error(`${url}: no body (status ${res.status})`);
  const reader = res.body.getReader();
  try {
    const first = await reader.read();
    const t1 = performance.now();
    if (!res.ok || !(res.headers.get("content-type") ?? "").includes("text/event-stream")) {
      throw new Error(
        `${url}: status ${res.status}, content-type ${res.headers.get("content-type")}`,
      );
    }
    if (first.done || first.value.byteLength === 0) throw new Error(`${url}: empty stream`);
    while (!(await reader.read()).done) { /* drain */ }
    return { ttfb_ms: t1 - t0, total_ms: performance.now() - t0 };
  } finally {
    reader.releaseLock();
  }
}

/**
 * Times `count` streaming requests per target, sequentially, interleaving the targets (the order
 * rotates every iteration so none always goes first), after `warmup` untimed requests each.
 *
 * @example
 * ```ts ignore
 * const stats = await runTtfbSeries(
 *   [{ name: "direct", url: a }, { name: "gateway", url: b }],
 *   body, { "content-type": "application/json" }, 200, 20,
 * );
 * console.log(stats.gateway.ttfb.p50_ms - stats.direct.ttfb.p50_ms);
 * ```
 */
export async function runTtfbSeries(
  targets: readonly TtfbTarget[],
  body: string,
  headers: Record<string, string>,
  count: number,
  warmup: number,
): Promise<Record<string, TtfbStats>> {
  const client = Deno.createHttpClient({});
  const h = new Headers(headers);
  const samples = new Map<string, TtfbSample[]>(targets.map((t) => [t.name, []]));
  const errors = new Map<string, number>(targets.map((t) => [t.name, 0]));
  try {
    for (let i = 0; i < warmup; i++) {
      for (const t of targets) await timeFirstByte(t.url, body, h, client);
    }
    for (let i = 0; i < count; i++) {
      for (let j = 0; j < targets.length; j++) {
        const t = targets[(i + j) % targets.length];
        try {
          samples.get(t.name)!.push(await timeFirstByte(t.url, body, h, client));
        } catch {
          errors.set(t.name, errors.get(t.name)! + 1);
        }
      }
    }
  } finally {
    client.close();
  }
  const out: Record<string, TtfbStats> = {};
  for (const t of targets) {
    const s = samples.get(t.name)!;
    out[t.name] = {
      ttfb: summarize(s.map((x) => x.ttfb_ms)),
      total: summarize(s.map((x) => x.total_ms)),
      errors: errors.get(t.name)!,
    };
  }
  return out;
}
