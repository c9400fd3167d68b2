/**
 * Redis as a ByteStore: the shared cache of gateway replicas.
 *
 * Layout, for a key `["l1a", tenant, provider, digest]` under prefix `isartor`:
 *
 * ```
 * {isartor:l1a:<tenant>:<provider>:<digest>}:m          → 0x00 + value          (inline)
 *                                                       → 0x01 + {"g","n","s"}  (chunked)
 * {isartor:l1a:<tenant>:<provider>:<digest>}:c:<gen>:<i> → chunk i of generation gen
 * ```
 *
 * - Key parts are percent-encoded (everything but `[A-Za-z0-9_.@/+=,-]`), so a
 *   part never holds `:`, braces or glob characters: a tenant's entries are
 *   exactly the keys that start with its prefix, and SCAN patterns are safe.
 * - The braces are a Redis Cluster hash tag: an entry's meta and chunks share
 *   a slot, so one MGET reads all chunks.
 * - TTL is Redis expiry (`PX`); chunks live a minute longer than their meta.
 * - Large values are written as chunks of a fresh generation first and the
 *   meta last: a reader sees the old entry, or the whole new one, never half.
 *
 * @module
 */

import type { ByteStore, StoreKey } from "./byte_store.ts";
import { RedisConnection } from "./redis_client.ts";

/** Bytes per chunk; values up to this size are stored inline. */
export const REDIS_CHUNK = 512 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Percent-encodes one key part (see the module doc). */
export function encodeKeyPart(part: string): string {
  return part.replace(
    /[^A-Za-z0-9_.@/+=,-]/gu,
    (c) =>
      [...encoder.encode(c)].map((b) => "%" + b.toString(16).toUpperCase().padStart(2, "0")).join(
        "",
      ),
  );
}

/** The inverse of {@linkcode encodeKeyPart}. */
export function decodeKeyPart(part: string): string {
  return decodeURIComponent(part);
}

interface ChunkMeta {
  g: string;
  n: number;
  s: number;
}

/** A ByteStore on Redis (one node or a cluster). */
export class RedisByteStore implements ByteStore {
  readonly kind = "redis";

  /**
   * @param conn the command connection
   * @param prefix the first part of every key (`redis_key_prefix`), so that
   *   several deployments can share one Redis
   */
  constructor(readonly conn: RedisConnection, readonly prefix = "isartor") {}

  /** The Redis key base of a store key: `{prefix:part:part…}`. */
  base(key: StoreKey): string {
    return `{${[this.prefix, ...key].map(encodeKeyPart).join(":")}}`;
  }

  #meta(key: StoreKey): string {
    return `${this.base(key)}:m`;
  }

  #chunkKeys(base: string, meta: ChunkMeta): string[] {
    return Array.from({ length: meta.n }, (_, i) => `${base}:c:${meta.g}:${i}`);
  }

  /** The store key of a meta key, or null if it is not one of ours. */
  keyOfMeta(redisKey: string): StoreKey | null {
    if (!redisKey.startsWith("{") || !redisKey.endsWith("}:m")) return null;
    const parts = redisKey.slice(1, -3).split(":").map(decodeKeyPart);
    if (parts[0] !== this.prefix) return null;
    return parts.slice(1);
  }

  /** The SCAN pattern of every meta key under a prefix (the prefix itself included). */
  #pattern(prefix: StoreKey): string {
    const head = [this.prefix, ...prefix].map(encodeKeyPart).join(":");
    // `[:}]`: a longer key continues with ":", the key itself ends with "}".
    return `{${head}[:}]*:m`;
  }

  async get(key: StoreKey): Promise<Uint8Array | null> {
    const meta = await this.conn.command(this.base(key), ["GET", this.#meta(key)]) as
      | Uint8Array
      | null;
    if (!meta || meta.byteLength === 0) return null;
    if (meta[0] === 0) return meta.subarray(1);
    const m = parseChunkMeta(meta);
    if (!m) return null;
    const keys = this.#chunkKeys(this.base(key), m);
    const parts = await this.conn.command(this.base(key), ["MGET", ...keys]) as (
      | Uint8Array
      | null
    )[];
    const out = new Uint8Array(m.s);
    let at = 0;
    for (const p of parts) {
      // A chunk expired or was evicted (maxmemory): the entry is absent.
      if (!p || at + p.byteLength > m.s) return null;
      out.set(p, at);
      at += p.byteLength;
    }
    return at === m.s ? out : null;
  }

  async set(key: StoreKey, value: Uint8Array, ttlMs: number): Promise<void> {
    const px = String(Math.max(1, Math.round(ttlMs)));
    const base = this.base(key);
    if (value.byteLength <= REDIS_CHUNK) {
      const inline = new Uint8Array(value.byteLength + 1);
      inline.set(value, 1);
      const old = await this.conn.command(base, ["SET", this.#meta(key), inline, "PX", px, "GET"]);
      await this.#dropChunksOf(base, old);
      return;
    }
    const m: ChunkMeta = {
      g: crypto.randomUUID(),
      n: Math.ceil(value.byteLength / REDIS_CHUNK),
      s: value.byteLength,
    };
    const keys = this.#chunkKeys(base, m);
    const chunkPx = String(Number(px) + 60_000);
    // Chunks first, under a generation nobody reads yet; the meta makes them visible.
    await Promise.all(keys.map((k, i) =>
      this.conn.command(base, [
        "SET",
        k,
        value.subarray(i * REDIS_CHUNK, (i + 1) * REDIS_CHUNK),
        "PX",
        chunkPx,
      ])
    ));
    const metaBytes = encoder.encode("\u0001" + JSON.stringify(m));
    const old = await this.conn.command(base, ["SET", this.#meta(key), metaBytes, "PX", px, "GET"]);
    await this.#dropChunksOf(base, old);
  }

  /** Frees the chunks of a replaced entry (they would expire anyway). */
  async #dropChunksOf(base: string, old: Uint8Array | null): Promise<void> {
    const m = old && old[0] === 1 ? parseChunkMeta(old) : null;
    if (m) await this.conn.command(base, ["UNLINK", ...this.#chunkKeys(base, m)]);
  }

  async delete(key: StoreKey): Promise<void> {
    const base = this.base(key);
    const old = await this.conn.command(base, ["GETDEL", this.#meta(key)]);
    await this.#dropChunksOf(base, old);
  }

  async deletePrefix(prefix: StoreKey): Promise<number> {
    let n = 0;
    for await (const page of this.conn.scan(this.#pattern(prefix))) {
      for (const metaKey of page) {
        const key = this.keyOfMeta(metaKey);
        if (!key) continue;
        await this.delete(key);
        n++;
      }
    }
    return n;
  }

  async *list(prefix: StoreKey): AsyncIterable<[StoreKey, Uint8Array]> {
    const keys: StoreKey[] = [];
    for await (const page of this.conn.scan(this.#pattern(prefix))) {
      for (const metaKey of page) {
        const key = this.keyOfMeta(metaKey);
        if (key) keys.push(key);
      }
    }
    keys.sort((a, b) => (a.join("\u0000") < b.join("\u0000") ? -1 : 1));
    for (const key of keys) {
      const value = await this.get(key);
      if (value) yield [key, value];
    }
  }

  /** How many entries live under a prefix, over all replicas (a SCAN: for stats, not the hot path). */
  async count(prefix: StoreKey): Promise<number> {
    let n = 0;
    for await (const page of this.conn.scan(this.#pattern(prefix))) {
      n += page.filter((k) => this.keyOfMeta(k) !== null).length;
    }
    return n;
  }

  close(): Promise<void> {
    this.conn.close();
    return Promise.resolve();
  }
}

function parseChunkMeta(bytes: Uint8Array): ChunkMeta | null {
  try {
    const m = JSON.parse(decoder.decode(bytes.subarray(1))) as ChunkMeta;
    return typeof m.g === "string" && Number.isInteger(m.n) && Number.isInteger(m.s) ? m : null;
  } catch {
    return null;
  }
}
