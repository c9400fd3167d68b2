/**
 * The vector index of one partition: an exact-enough nearest-neighbour search
 * in two passes.
 *
 * 1. **Binary scan.** Each vector is kept as its sign bits (1 bit per
 *    dimension). The query's bits are compared with every entry's by Hamming
 *    distance (XOR + popcount), in WebAssembly for large partitions
 *    (`hamming_wasm.ts`), in JavaScript for small ones. The `rerank` closest
 *    entries go on.
 * 2. **Re-rank.** Those candidates are scored by the cosine of the float
 *    query with their int8-quantized vectors (one scale per vector; the
 *    quantization moves the cosine by well under 0.001), and sorted.
 *
 * Why not a flat scan or HNSW: a flat float32 or int8 scan of 100,000 × 384
 * takes 15 to 23 ms in JavaScript; this index takes 0.5 ms (measured by
 * `bench/scenarios/semantic_search.ts`). HNSW would be as fast but makes
 * deletion (LRU and TTL evict all the time) and start-up rebuilds costly;
 * here adding and removing are O(1) (the last entry moves into the gap).
 *
 * @module
 */

import { type HammingKernel, hammingKernel } from "./hamming_wasm.ts";

/** One search result. */
export interface IndexHit {
  /** The handle the entry was added with. */
  handle: number;
  /** Cosine similarity with the entry's int8-quantized vector (within about 0.001 of the exact one). */
  similarity: number;
}

/** Options of a VectorIndex. */
export interface VectorIndexOptions {
  /** How many binary-scan candidates are re-ranked (default 32). */
  rerank?: number;
  /** From how many entries the WebAssembly scan is used (default 1024; Infinity: never). */
  wasmFrom?: number;
}

const LUT16 = (() => {
  const t = new Uint8Array(65536);
  for (let i = 1; i < 65536; i++) t[i] = (i & 1) + t[i >> 1];
  return t;
})();

/** Nearest neighbours by cosine similarity over unit vectors, with O(1) add and remove. */
export class VectorIndex {
  readonly dims: number;
  /** Number of 64-bit words of one binary code. */
  readonly #words: number;
  readonly #rerank: number;
  readonly #wasmFrom: number;
  #size = 0;
  #capacity = 0;
  #handles = new Int32Array(0);
  #slotOf = new Map<number, number>();
  #vectors = new Int8Array(0);
  #scales = new Float32Array(0);
  // Binary codes, the query's code and the distances: plain arrays, or views into the kernel's memory.
  #codes: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  #query: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  #dist: Uint16Array<ArrayBufferLike> = new Uint16Array(0);
  #kernel: HammingKernel | null = null;
  #codesAt = 0;
  #distAt = 0;
  // Scratch of the candidate selection, reused by every search.
  #candSlot: Int32Array;
  #candDist: Uint16Array;

  constructor(dims: number, options: VectorIndexOptions = {}) {
    this.dims = dims;
    this.#words = Math.ceil(dims / 64);
    this.#rerank = options.rerank ?? 32;
    this.#wasmFrom = options.wasmFrom ?? 1024;
    this.#query = new Uint32Array(this.#words * 2);
    this.#candSlot = new Int32Array(this.#rerank);
    this.#candDist = new Uint16Array(this.#rerank);
  }

  /** How many vectors the index holds. */
  get size(): number {
    return this.#size;
  }

  /** Whether the binary scan runs in WebAssembly. */
  get accelerated(): boolean {
    return this.#kernel !== null;
  }

  /** Adds (or replaces) the vector of `handle`. The vector must be unit length. */
  add(handle: number, vector: Float32Array): void {
    if (vector.length !== this.dims) {
      throw new RangeError(`vector has ${vector.length} dimensions, the index ${this.dims}`);
    }
    let slot = this.#slotOf.get(handle);
    if (slot === undefined) {
      if (this.#size === this.#capacity) this.#grow(Math.max(16, this.#capacity * 2));
      slot = this.#size++;
      this.#slotOf.set(handle, slot);
      this.#handles[slot] = handle;
    }
    let max = 0;
    for (let i = 0; i < this.dims; i++) max = Math.max(max, Math.abs(vector[i]));
    const step = max > 0 ? max / 127 : 1;
    const base = slot * this.dims;
    let norm = 0;
    for (let i = 0; i < this.dims; i++) {
      const q = Math.round(vector[i] / step);
      this.#vectors[base + i] = q;
      norm += q * q;
    }
    // The cosine with the quantized vector itself: its error is of second order.
    this.#scales[slot] = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    this.#signBits(vector, this.#codes, slot * this.#words * 2);
  }

  /** Removes the vector of `handle`; false if it was not there. */
  remove(handle: number): boolean {
    const slot = this.#slotOf.get(handle);
    if (slot === undefined) return false;
    this.#slotOf.delete(handle);
    const last = --this.#size;
    if (slot !== last) {
      // The last entry moves into the gap.
      const moved = this.#handles[last];
      this.#handles[slot] = moved;
      this.#slotOf.set(moved, slot);
      this.#vectors.copyWithin(slot * this.dims, last * this.dims, (last + 1) * this.dims);
      this.#scales[slot] = this.#scales[last];
      const w = this.#words * 2;
      this.#codes.copyWithin(slot * w, last * w, (last + 1) * w);
    }
    return true;
  }

  /**
   * The `k` entries most similar to `query` with a similarity of at least
   * `min`, best first.
   */
  search(query: Float32Array, k: number, min = -1): IndexHit[] {
    const n = this.#size;
    if (n === 0 || k <= 0) return [];
    this.#signBits(query, this.#query, 0);
    const dist = this.#distances(n);
    // Keep the `r` smallest distances (insertion into a short sorted list).
    const r = Math.min(this.#rerank, n);
    const candSlot = this.#candSlot;
    const candDist = this.#candDist.fill(0xffff);
    let worst = 0xffff;
    let filled = 0;
    for (let i = 0; i < n; i++) {
      const d = dist[i];
      if (filled === r && d >= worst) continue;
      let j = filled < r ? filled++ : r - 1;
      while (j > 0 && candDist[j - 1] > d) {
        candDist[j] = candDist[j - 1];
        candSlot[j] = candSlot[j - 1];
        j--;
      }
      candDist[j] = d;
      candSlot[j] = i;
      worst = candDist[r - 1];
    }
    const hits: IndexHit[] = [];
    for (let c = 0; c < filled; c++) {
      const slot = candSlot[c];
      const base = slot * this.dims;
      let dot = 0;
      for (let i = 0; i < this.dims; i++) dot += query[i] * this.#vectors[base + i];
      const similarity = dot * this.#scales[slot];
      if (similarity >= min) hits.push({ handle: this.#handles[slot], similarity });
    }
    hits.sort((a, b) => b.similarity - a.similarity);
    return hits.slice(0, k);
  }

  #signBits(v: Float32Array, out: Uint32Array<ArrayBufferLike>, at: number): void {
    const w32 = this.#words * 2;
    out.fill(0, at, at + w32);
    for (let i = 0; i < this.dims; i++) {
      if (v[i] > 0) out[at + (i >> 5)] |= 1 << (i & 31);
    }
  }

  #distances(n: number): Uint16Array<ArrayBufferLike> {
    if (this.#kernel) {
      this.#kernel.scan(0, this.#codesAt, n, this.#words, this.#distAt);
      return this.#dist;
    }
    const w32 = this.#words * 2;
    const q = this.#query;
    const codes = this.#codes;
    const dist = this.#dist;
    for (let i = 0, o = 0; i < n; i++, o += w32) {
      let d = 0;
      for (let j = 0; j < w32; j++) {
        const x = q[j] ^ codes[o + j];
        d += LUT16[x & 0xffff] + LUT16[x >>> 16];
      }
      dist[i] = d;
    }
    return dist;
  }

  #grow(capacity: number): void {
    const vectors = new Int8Array(capacity * this.dims);
    vectors.set(this.#vectors.subarray(0, this.#size * this.dims));
    this.#vectors = vectors;
    const scales = new Float32Array(capacity);
    scales.set(this.#scales.subarray(0, this.#size));
    this.#scales = scales;
    const handles = new Int32Array(capacity);
    handles.set(this.#handles.subarray(0, this.#size));
    this.#handles = handles;

    const w32 = this.#words * 2;
    const oldCodes = this.#codes.slice(0, this.#size * w32);
    if (capacity >= this.#wasmFrom) this.#kernel ??= hammingKernel();
    if (this.#kernel) {
      // Layout in the kernel's memory: [query][distances][codes], 8-byte aligned.
      const queryBytes = w32 * 4;
      const distAt = queryBytes;
      const codesAt = distAt + Math.ceil((capacity * 2) / 8) * 8;
      const need = codesAt + capacity * w32 * 4;
      const mem = this.#kernel.memory;
      if (mem.buffer.byteLength < need) {
        mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
      }
      this.#query = new Uint32Array(mem.buffer, 0, w32);
      this.#dist = new Uint16Array(mem.buffer, distAt, capacity);
      this.#codes = new Uint32Array(mem.buffer, codesAt, capacity * w32);
      this.#codes.set(oldCodes);
      this.#codesAt = codesAt;
      this.#distAt = distAt;
    } else {
      this.#codes = new Uint32Array(capacity * w32);
      this.#codes.set(oldCodes);
      this.#dist = new Uint16Array(capacity);
    }
    this.#capacity = capacity;
  }
}
