/**
 * The cache feed on a Redis stream (`XADD` / `XREAD BLOCK`).
 *
 * A stream rather than keyspace notifications: notifications are off by
 * default (`notify-keyspace-events`) and often cannot be turned on in managed
 * Redis; they are fire-and-forget pub/sub, so a replica that reconnects loses
 * what happened meanwhile; and they carry only the key name, so each event
 * would cost a GET. A stream carries the entry itself, is read again from the
 * last id seen after a reconnect, and lives on one key (one slot in a cluster).
 * It is capped (`MAXLEN ~`), so a replica away for long rebuilds from the store
 * at its next start rather than from the stream.
 *
 * The lag of each event (its publish time to its arrival here) is measured
 * for `/api/v1/cache/stats`.
 *
 * @module
 */

import type { CacheEvent, CacheFeed } from "./cache_feed.ts";
import type { RedisConnection, Reply } from "./redis_client.ts";

/** Most events the stream keeps (approximately). */
const MAX_EVENTS = 10_000;
/** How far before its start a replica reads the stream (covers clock skew between hosts). */
const START_MARGIN_MS = 5000;
/** How long one XREAD blocks; the loop re-checks for close in between. */
const BLOCK_MS = 1000;

const decoder = new TextDecoder();

/** Lag of the events received (ms from publish to arrival). */
export interface FeedStats {
  received: number;
  published: number;
  lag_ms_last: number | null;
  lag_ms_max: number | null;
  lag_ms_p50: number | null;
}

function text(v: Reply): string {
  return typeof v === "string" ? v : decoder.decode(v);
}

/** The feed of one replica. */
export class RedisCacheFeed implements CacheFeed {
  readonly origin = crypto.randomUUID();
  #subscribers: ((e: CacheEvent) => void)[] = [];
  #reader: RedisConnection | null = null;
  /**
   * Where reading starts: a few seconds before this replica was built (stream
   * ids are millisecond times). Not "the tail when the reader connects": an
   * event published while this replica was still connecting would be lost,
   * and its index, built from the store meanwhile, would miss that entry.
   * Events seen twice are harmless (entries are deduplicated, deletes repeat).
   */
  #lastId = `${Date.now() - START_MARGIN_MS}-0`;
  #closed = false;
  #loop: Promise<void> | null = null;
  #published = 0;
  #lags: number[] = [];
  #received = 0;
  #lagMax: number | null = null;
  #lagLast: number | null = null;

  /**
   * @param conn the command connection (XADD)
   * @param streamKey the stream's Redis key
   * @param onError failures of publishing or reading (for the metric and the warning)
   */
  constructor(
    readonly conn: RedisConnection,
    readonly streamKey: string,
    readonly onError: (op: string, e: unknown) => void = () => {},
  ) {}

  publish(event: CacheEvent): void {
    const fields: (string | Uint8Array)[] = [
      "o",
      this.origin,
      "ts",
      String(Date.now()),
      "t",
      event.type,
      "k",
      JSON.stringify(event.type === "put" ? event.key : event.prefix),
    ];
    if (event.type === "put") fields.push("v", event.value);
    this.#published++;
    this.conn.command(this.streamKey, [
      "XADD",
      this.streamKey,
      "MAXLEN",
      "~",
      String(MAX_EVENTS),
      "*",
      ...fields,
    ]).catch((e) => this.onError("feed_publish", e));
  }

  subscribe(fn: (event: CacheEvent) => void): void {
    this.#subscribers.push(fn);
    this.#loop ??= this.#follow();
  }

  stats(): FeedStats {
    const sorted = [...this.#lags].sort((a, b) => a - b);
    return {
      received: this.#received,
      published: this.#published,
      lag_ms_last: this.#lagLast,
      lag_ms_max: this.#lagMax,
      lag_ms_p50: sorted.length ? sorted[Math.floor(sorted.length / 2)] : null,
    };
  }

  /** Stops reading; the command connection belongs to the store. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#reader?.close();
    await this.#loop?.catch(() => {});
  }

  async #follow(): Promise<void> {
    this.#reader = this.conn.duplicate();
    while (!this.#closed) {
      try {
        if (!this.#reader.ready) {
          await sleep(100);
          continue;
        }
        const reply = await this.#reader.command(this.streamKey, [
          "XREAD",
          "COUNT",
          "200",
          "BLOCK",
          String(BLOCK_MS),
          "STREAMS",
          this.streamKey,
          this.#lastId,
        ], BLOCK_MS + this.conn.options.commandTimeoutMs + 1000);
        for (const [id, fields] of streamEntries(reply)) {
          this.#lastId = id;
          this.#deliver(fields);
        }
      } catch (e) {
        if (this.#closed) return;
        this.onError("feed_read", e);
        await sleep(500);
      }
    }
  }

  #deliver(fields: Map<string, Reply>): void {
    if (text(fields.get("o") ?? "") === this.origin) return;
    const ts = Number(text(fields.get("ts") ?? "0"));
    const lag = Math.max(0, Date.now() - ts);
    this.#received++;
    this.#lagLast = lag;
    this.#lagMax = Math.max(this.#lagMax ?? 0, lag);
    this.#lags.push(lag);
    if (this.#lags.length > 1000) this.#lags.splice(0, this.#lags.length - 1000);
    let key: string[];
    try {
      key = JSON.parse(text(fields.get("k") ?? "[]"));
    } catch {
      return;
    }
    const type = text(fields.get("t") ?? "");
    const event: CacheEvent | null = type === "put" && fields.get("v")
      ? { type: "put", key, value: new Uint8Array(fields.get("v")) }
      : type === "delete"
      ? { type: "delete", prefix: key }
      : null;
    if (!event) return;
    for (const fn of this.#subscribers) {
      try {
        fn(event);
      } catch { /* one subscriber's bug must not stop the feed */ }
    }
  }
}

/** `[id, fields]` of an XREAD reply (RESP2 arrays or RESP3 maps). */
function streamEntries(reply: Reply): [string, Map<string, Reply>][] {
  if (!reply) return [];
  const streams: Reply[] = reply instanceof Map
    ? [...reply.entries()]
    : Array.isArray(reply)
    ? reply
    : Object.entries(reply);
  const out: [string, Map<string, Reply>][] = [];
  for (const s of streams) {
    for (const [id, flat] of s[1] as Reply[]) {
      const fields = new Map<string, Reply>();
      for (let i = 0; i + 1 < flat.length; i += 2) fields.set(text(flat[i]), flat[i + 1]);
      out.push([text(id), fields]);
    }
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
