import assert from "node:assert/strict";
import { VectorIndex } from "../../../src/semantic/vector_index.ts";

/** A seeded generator, so the test is the same on every run. */
function rng(seed: number) {
  return () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function randomVectors(n: number, dims: number, rand: () => number): Float32Array[] {
  return Array.from(
    { length: n },
    () => unit(Float32Array.from({ length: dims }, () => rand() - 0.5)),
  );
}

function noisy(v: Float32Array, amount: number, rand: () => number): Float32Array {
  return unit(v.map((x) => x + (rand() - 0.5) * amount));
}

for (const wasmFrom of [16, Infinity]) {
  Deno.test(`vector index (${wasmFrom === 16 ? "WebAssembly" : "JavaScript"} scan): finds the nearest, add/remove O(1)`, () => {
    const rand = rng(7);
    const dims = 96;
    const vecs = randomVectors(3000, dims, rand);
    const index = new VectorIndex(dims, { wasmFrom });
    vecs.forEach((v, i) => index.add(i + 100, v));
    assert.equal(index.size, 3000);
    assert.equal(index.accelerated, wasmFrom === 16);
    for (const target of [0, 1234, 2999]) {
      const q = noisy(vecs[target], 0.05, rand);
      const [best] = index.search(q, 1, 0.5);
      assert.equal(best.handle, target + 100);
      const exact = q.reduce((s, x, i) => s + x * vecs[target][i], 0);
      assert.ok(Math.abs(best.similarity - exact) < 0.005, `${best.similarity} vs ${exact}`);
    }
    // Removing moves the last entry into the gap; it stays findable.
    assert.equal(index.remove(100), true);
    assert.equal(index.remove(100), false);
    assert.equal(index.size, 2999);
    assert.equal(index.search(vecs[2999], 1)[0].handle, 3099);
    assert.notEqual(index.search(vecs[0], 1, 0.99)[0]?.handle, 100);
    // Replacing a handle's vector.
    index.add(3099, vecs[5]);
    assert.equal(index.size, 2999);
    assert.deepEqual(index.search(vecs[5], 2).map((h) => h.handle).sort(), [105, 3099]);
    // Nothing above a high minimum for an unrelated query.
    assert.deepEqual(index.search(randomVectors(1, dims, rand)[0], 5, 0.9), []);
  });
}

Deno.test("vector index: results are sorted best first and bounded by k", () => {
  const rand = rng(3);
  const base = randomVectors(1, 32, rand)[0];
  const index = new VectorIndex(32);
  for (let i = 0; i < 10; i++) index.add(i, noisy(base, 0.1 * i, rand));
  const hits = index.search(base, 4);
  assert.equal(hits.length, 4);
  assert.equal(hits[0].handle, 0);
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1].similarity >= hits[i].similarity);
  assert.throws(() => index.add(99, new Float32Array(8)), RangeError);
});
