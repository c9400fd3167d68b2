/**
 * Deno KV on disk as a ByteStore. Values over KV's 64 KiB limit are split into
 * chunks; a meta record written last makes an entry visible, and a random
 * generation id ties chunks to their meta, so a reader never mixes two writes.
 *
 * @module
 */

import { createPrivateFile } from "../config/data_dir.ts";
import type { ByteStore, StoreKey } from "./byte_store.ts";

/** Bytes per chunk: under KV's 64 KiB value limit with room for the key. */
const CHUNK = 60 * 1024;
/** KV allows 10 keys per getMany. */
const GET_MANY = 10;
/** Keeps one atomic commit well under KV's 800 KiB total. */
const CHUNKS_PER_COMMIT = 10;

interface Meta {
  /** The whole value when it fits in one record. */
  inline?: Uint8Array;
  gen?: string;
  chunks?: number;
  size?: number;
}

async function retryLocked<T>(op: () => Promise<T>): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await op();
    } catch (e) {
      // Several processes on one file: SQLite may briefly report a lock.
      if (attempt >= 4 || !String((e as Error).message).includes("locked")) throw e;
      await new Promise((r) => setTimeout(r, 5 * 2 ** attempt));
    }
  }
}

/** A ByteStore on a Deno KV database file. */
export class KvByteStore implements ByteStore {
  readonly kind = "kv";
  private constructor(readonly kv: Deno.Kv, readonly path: string) {}

  /** Opens (or creates) the database at `path`. */
  static async open(path: string): Promise<KvByteStore> {
    // Prompts and answers: the file (and its -wal/-shm) readable by the user only.
    await createPrivateFile(path);
    return new KvByteStore(await Deno.openKv(path), path);
  }

  async get(key: StoreKey): Promise<Uint8Array | null> {
    const meta = await retryLocked(() => this.kv.get<Meta>([...key, "m"]));
    const m = meta.value;
    if (!m) return null;
    if (m.inline) return m.inline;
    if (!m.gen || !m.chunks || m.size === undefined) return null;
    const out = new Uint8Array(m.size);
    let at = 0;
    for (let i = 0; i < m.chunks; i += GET_MANY) {
      const keys: Deno.KvKey[] = [];
      for (let j = i; j < Math.min(m.chunks, i + GET_MANY); j++) keys.push([...key, "c", m.gen, j]);
      const parts = await retryLocked(() => this.kv.getMany<Uint8Array[]>(keys));
      for (const p of parts) {
        // A chunk expired or vanished under us: treat the entry as absent.
        if (!(p.value instanceof Uint8Array)) return null;
        out.set(p.value, at);
        at += p.value.byteLength;
      }
    }
    return at === m.size ? out : null;
  }

  async set(key: StoreKey, value: Uint8Array, ttlMs: number): Promise<void> {
    const expireIn = Math.max(1, Math.round(ttlMs));
    if (value.byteLength <= CHUNK) {
      await retryLocked(() => this.kv.set([...key, "m"], { inline: value }, { expireIn }));
      return;
    }
    const gen = crypto.randomUUID();
    const chunks = Math.ceil(value.byteLength / CHUNK);
    for (let i = 0; i < chunks; i += CHUNKS_PER_COMMIT) {
      const op = this.kv.atomic();
      for (let j = i; j < Math.min(chunks, i + CHUNKS_PER_COMMIT); j++) {
        op.set([...key, "c", gen, j], value.subarray(j * CHUNK, (j + 1) * CHUNK), { expireIn });
      }
      await retryLocked(() => op.commit());
    }
    const meta: Meta = { gen, chunks, size: value.byteLength };
    await retryLocked(() => this.kv.set([...key, "m"], meta, { expireIn }));
  }

  async delete(key: StoreKey): Promise<void> {
    await this.deletePrefix(key);
  }

  async deletePrefix(prefix: StoreKey): Promise<number> {
    let entries = 0;
    let op = this.kv.atomic();
    let pending = 0;
    for await (const e of this.kv.list({ prefix: [...prefix] })) {
      if (e.key.at(-1) === "m") entries++;
      op.delete(e.key);
      if (++pending >= 500) {
        await retryLocked(() => op.commit());
        op = this.kv.atomic();
        pending = 0;
      }
    }
    if (pending > 0) await retryLocked(() => op.commit());
    return entries;
  }

  async *list(prefix: StoreKey): AsyncIterable<[StoreKey, Uint8Array]> {
    for await (const e of this.kv.list<Meta>({ prefix: [...prefix] })) {
      // One meta record per entry (chunk keys end in a number); chunks are read through get().
      if (e.key.at(-1) !== "m") continue;
      const key = e.key.slice(0, -1).map(String);
      const value = e.value?.inline ?? await this.get(key);
      if (value) yield [key, value];
    }
  }

  close(): Promise<void> {
    this.kv.close();
    return Promise.resolve();
  }
}
