/**
 * One Redis connection (a single node or a Redis Cluster) behind a handful of
 * raw commands, with the fault rules of the cache: a command never waits for
 * a connection (no offline queue), never runs longer than the command timeout,
 * and after a timeout the connection is skipped for a second, so a slow Redis
 * costs one timeout a second instead of one per request. The client reconnects
 * by itself, with backoff.
 *
 * Built on node-redis (`@redis/client`): see the commit that added it for why.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createClient, createCluster, RESP_TYPES } from "@redis/client";

/** How to reach Redis. */
export interface RedisConnectOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). */
  url: string;
  /** Redis Cluster seed nodes (URLs); when non-empty, `url` is not used. */
  clusterNodes?: string[];
  /** Longest a command may take before it counts as failed. */
  commandTimeoutMs: number;
  /** Connection-level errors (the caller rate-limits its warnings). */
  onError?: (error: Error) => void;
}

/** A raw reply: bytes for bulk strings, as the cache stores bytes. */
// deno-lint-ignore no-explicit-any
export type Reply = any;

// Bulk strings come back as Buffers: values are opaque bytes.
const TYPE_MAPPING = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;

/** Reconnect delays: fast at first, then every 2 s for as long as Redis is away. */
function backoff(retries: number): number {
  return Math.min(50 * 2 ** retries, 2000);
}

/**
 * The URL with database `db` when it names none (`redis://host:port/2` keeps 2).
 *
 * @example
 * ```ts
 * redisUrlWithDb("redis://127.0.0.1:6379", 3); // "redis://127.0.0.1:6379/3"
 * ```
 */
export function redisUrlWithDb(url: string, db: number): string {
  if (db === 0) return url;
  try {
    const u = new URL(url);
    if (u.pathname && u.pathname !== "/") return url;
    u.pathname = `/${db}`;
    return u.toString();
  } catch {
    return url;
  }
}

/** Hides the password of a Redis URL, for logs and `/health`. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(invalid redis url)";
  }
}

interface Underlying {
  isReady: boolean;
  connect(): Promise<unknown>;
  destroy(): void;
  on(event: string, fn: (e: Error) => void): unknown;
  scanIterator(options: { MATCH: string; COUNT: number }): AsyncIterable<Reply[]>;
  duplicate(): Underlying;
}

/** A Redis connection for the cache. */
export class RedisConnection {
  #client: Underlying;
  #cluster: boolean;
  #slowUntil = 0;
  #lastError = "";
  #closed = false;

  private constructor(client: Underlying, cluster: boolean, readonly options: RedisConnectOptions) {
    this.#client = client;
    this.#cluster = cluster;
    client.on("error", (e: Error) => {
      this.#lastError = e.message || String(e);
      options.onError?.(e);
    });
    // Connecting happens in the background: a Redis that is down at start only
    // degrades the cache, and the client keeps retrying.
    client.connect().catch((e: Error) => (this.#lastError = e.message));
  }

  /** Starts connecting (single node or cluster, per options). */
  static open(options: RedisConnectOptions): RedisConnection {
    const socket = {
      connectTimeout: Math.max(500, options.commandTimeoutMs * 4),
      reconnectStrategy: backoff,
    };
    const nodes = options.clusterNodes ?? [];
    if (nodes.length > 0) {
      const cluster = createCluster({
        rootNodes: nodes.map((url) => ({ url })),
        defaults: { socket, disableOfflineQueue: true },
      }).withTypeMapping(TYPE_MAPPING);
      return new RedisConnection(cluster as unknown as Underlying, true, options);
    }
    const client = createClient({ url: options.url, socket, disableOfflineQueue: true })
      .withTypeMapping(TYPE_MAPPING);
    return new RedisConnection(client as unknown as Underlying, false, options);
  }

  /** Whether Redis answers commands now (connected, not in a slow spell). */
  get ready(): boolean {
    return this.#client.isReady && Date.now() >= this.#slowUntil;
  }

  /** Whether this is a Redis Cluster connection. */
  get cluster(): boolean {
    return this.#cluster;
  }

  /** The last connection error, for `/health` ("" when none). */
  get lastError(): string {
    return this.#lastError;
  }

  /**
   * Runs one command (`args[0]` is its name). `key` routes it in a cluster.
   * Throws at once when not connected, and after the command timeout.
   */
  async command(
    key: string | undefined,
    args: (string | Uint8Array)[],
    timeoutMs = this.options.commandTimeoutMs,
  ): Promise<Reply> {
    if (this.#closed) throw new Error("redis connection closed");
    if (!this.#client.isReady) {
      throw new Error(`redis not connected (${this.#lastError || "connecting"})`);
    }
    if (Date.now() < this.#slowUntil) throw new Error("redis slow: skipped for a second");
    const client = this.#client as unknown as {
      sendCommand(...a: unknown[]): Promise<Reply>;
    };
    // node-redis takes strings or Buffers (a view, not a copy).
    const raw = args.map((a) =>
      typeof a === "string" || Buffer.isBuffer(a)
        ? a
        : Buffer.from(a.buffer, a.byteOffset, a.byteLength)
    );
    const sent = this.#cluster
      ? client.sendCommand(key, false, raw, { typeMapping: TYPE_MAPPING })
      : client.sendCommand(raw, { typeMapping: TYPE_MAPPING });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#slowUntil = Date.now() + 1000;
        reject(new Error(`redis command timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([sent, timeout]);
    } finally {
      clearTimeout(timer);
      // A late reply (or error) of a timed-out command must not be unhandled.
      sent.catch(() => {});
    }
  }

  /** Every key matching a glob pattern (on every master of a cluster), page by page. */
  async *scan(match: string): AsyncIterable<string[]> {
    if (!this.#client.isReady) {
      throw new Error(`redis not connected (${this.#lastError || "connecting"})`);
    }
    for await (const page of this.#client.scanIterator({ MATCH: match, COUNT: 1000 })) {
      yield page.map((k: Reply) => typeof k === "string" ? k : new TextDecoder().decode(k));
    }
  }

  /**
   * A second connection with the same settings, for blocking reads (XREAD
   * BLOCK would stall every other command on a shared connection).
   */
  duplicate(): RedisConnection {
    return new RedisConnection(this.#client.duplicate(), this.#cluster, this.options);
  }

  /** Closes the connection at once (pending commands fail). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#client.destroy();
    } catch { /* already closed */ }
  }
}
