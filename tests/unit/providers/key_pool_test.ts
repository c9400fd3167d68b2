import assert from "node:assert/strict";
import { KeyPool, type PooledKey } from "../../../src/providers/key_pool.ts";

const key = (name: string, priority = 1): PooledKey => ({ key: name, label: name, priority });
const names = (pool: KeyPool) => pool.order().map((k) => k.key);

/** A clock the test moves by hand. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

Deno.test("key pool: round robin starts one key further on each request", () => {
  const pool = new KeyPool([key("a"), key("b"), key("c")], "round_robin", 60);
  assert.equal(pool.size, 3);
  assert.deepEqual(names(pool), ["a", "b", "c"]);
  assert.deepEqual(names(pool), ["b", "c", "a"]);
  assert.deepEqual(names(pool), ["c", "a", "b"]);
  assert.deepEqual(names(pool), ["a", "b", "c"]);
});

Deno.test("key pool: priority tries the lowest number first, ties in configuration order", () => {
  const pool = new KeyPool(
    [key("backup", 2), key("main-1", 1), key("free", 0), key("main-2", 1)],
    "priority",
    60,
  );
  assert.deepEqual(names(pool), ["free", "main-1", "main-2", "backup"]);
  // No rotation: every request gets the same order.
  assert.deepEqual(names(pool), ["free", "main-1", "main-2", "backup"]);
});

Deno.test("key pool: a cooling key goes last and comes back after the cooldown", () => {
  const c = clock();
  const pool = new KeyPool([key("a", 0), key("b", 1), key("c", 2)], "priority", 60, c.now);
  pool.coolDown("a");
  assert.equal(pool.isCooling("a"), true);
  assert.equal(pool.isCooling("b"), false);
  assert.deepEqual(names(pool), ["b", "c", "a"]);
  c.advance(59_999);
  assert.deepEqual(names(pool), ["b", "c", "a"]);
  c.advance(1);
  assert.equal(pool.isCooling("a"), false);
  assert.deepEqual(names(pool), ["a", "b", "c"]);
});

Deno.test("key pool: cooling keys are a last resort, the soonest ready first", () => {
  const c = clock();
  const pool = new KeyPool([key("a"), key("b"), key("c")], "priority", 60, c.now);
  pool.coolDown("a", 5_000); // e.g. Retry-After: 5
  pool.coolDown("b", 1_000);
  assert.deepEqual(names(pool), ["c", "b", "a"]);
  pool.coolDown("c"); // the default cooldown: key_cooldown_secs = 60
  assert.deepEqual(names(pool), ["b", "a", "c"]);
  c.advance(1_000);
  assert.deepEqual(names(pool), ["b", "a", "c"]);
  c.advance(4_000);
  assert.deepEqual(names(pool), ["a", "b", "c"]);
});

Deno.test("key pool: round robin keeps rotating among the ready keys", () => {
  const c = clock();
  const pool = new KeyPool([key("a"), key("b"), key("c")], "round_robin", 30, c.now);
  pool.coolDown("b");
  assert.deepEqual(names(pool), ["a", "c", "b"]);
  assert.deepEqual(names(pool), ["c", "a", "b"]);
  assert.deepEqual(names(pool), ["c", "a", "b"]);
  c.advance(30_000);
  assert.deepEqual(names(pool), ["a", "b", "c"]);
});

Deno.test("key pool: an empty pool has no keys to offer", () => {
  const pool = new KeyPool([], "round_robin", 60);
  assert.equal(pool.size, 0);
  assert.deepEqual(pool.order(), []);
});

Deno.test("key pool: the caller's array is not reordered", () => {
  const keys = [key("b", 2), key("a", 1)];
  new KeyPool(keys, "priority", 60).order();
  assert.deepEqual(keys.map((k) => k.key), ["b", "a"]);
});
