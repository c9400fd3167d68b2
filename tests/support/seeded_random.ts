/**
 * A small seeded PRNG for tests and benchmarks that must replay: same seed,
 * same sequence, on every machine.
 *
 * @module
 */

/**
 * mulberry32: uniform numbers in [0, 1) from a 32-bit seed.
 *
 * @example
 * ```ts
 * const rand = seededRandom(42);
 * rand() === seededRandom(42)(); // true
 * ```
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
