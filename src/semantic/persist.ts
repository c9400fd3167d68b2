/**
 * How the semantic cache lives in the persistent store, beside the exact
 * cache's recordings:
 *
 * ```
 * ["l1b",        tenant, provider, partition, id] → entry: {embedder, text, createdAt, vector}
 * ["l1b-answer", tenant, provider, partition, id] → the answer's recording
 * ```
 *
 * Entries are small and listed at start to rebuild the in-memory index;
 * recordings are read only on a hit. Both expire with `cache_ttl_secs`.
 *
 * @module
 */

import type { ByteStore, StoreKey } from "../cache/byte_store.ts";
import type { PartitionRef } from "./partition.ts";

/** The prefix of every entry record. */
export const ENTRY_PREFIX = "l1b";
/** The prefix of every answer recording. */
export const ANSWER_PREFIX = "l1b-answer";

/** The store key of an entry record. */
export function entryKey(ref: PartitionRef, id: string): StoreKey {
  return [ENTRY_PREFIX, ref.tenant, ref.provider, ref.digest, id];
}

/** The store key of an entry's recording. */
export function answerKey(ref: PartitionRef, id: string): StoreKey {
  return [ANSWER_PREFIX, ref.tenant, ref.provider, ref.digest, id];
}

/** An entry as stored. */
export interface StoredEntry {
  ref: PartitionRef;
  id: string;
  /** `name:model` of the embedder that made the vector. */
  embedder: string;
  text: string;
  createdAt: number;
  vector: Float32Array;
}

interface Wire {
  v: 1;
  e: string;
  q: string;
  t: number;
  /** The float32 vector, little-endian, base64. */
  x: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Serializes an entry record. */
export function encodeEntry(e: Omit<StoredEntry, "ref" | "id">): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(e.vector.buffer, e.vector.byteOffset, e.vector.byteLength);
  const wire: Wire = { v: 1, e: e.embedder, q: e.text, t: e.createdAt, x: toBase64(bytes) };
  return encoder.encode(JSON.stringify(wire));
}

/** Parses an entry record stored under `key`; null if it is not one. */
export function decodeEntry(key: StoreKey, bytes: Uint8Array): StoredEntry | null {
  if (key.length !== 5 || key[0] !== ENTRY_PREFIX) return null;
  try {
    const w = JSON.parse(decoder.decode(bytes)) as Wire;
    if (w.v !== 1 || typeof w.q !== "string" || typeof w.t !== "number") return null;
    const raw = fromBase64(w.x);
    if (raw.byteLength % 4 !== 0) return null;
    return {
      ref: { tenant: key[1], provider: key[2], digest: key[3] },
      id: key[4],
      embedder: w.e,
      text: w.q,
      createdAt: w.t,
      vector: new Float32Array(raw.buffer),
    };
  } catch {
    return null;
  }
}

/**
 * Every fresh entry of `embedder` with `dims`-long vectors in the store,
 * oldest first (so that, added in order, the newest are the most recently
 * used). Nothing when the store cannot list.
 */
export async function loadEntries(
  store: ByteStore,
  embedder: string,
  dims: number,
  notBefore: number,
): Promise<StoredEntry[]> {
  if (!store.list) return [];
  const out: StoredEntry[] = [];
  for await (const [key, value] of store.list([ENTRY_PREFIX])) {
    const e = decodeEntry(key, value);
    if (e && e.embedder === embedder && e.vector.length === dims && e.createdAt > notBefore) {
      out.push(e);
    }
  }
  return out.sort((a, b) => a.createdAt - b.createdAt);
}
