// ByteStore.list, which the semantic cache uses to rebuild its index at start.
import assert from "node:assert/strict";
import { type ByteStore, MemoryByteStore } from "../../../src/cache/byte_store.ts";
import { LazyByteStore } from "../../../src/cache/build.ts";
import { KvByteStore } from "../../../src/cache/kv_store.ts";

async function listAll(store: ByteStore, prefix: string[]) {
  const out: [string[], number][] = [];
  for await (const [k, v] of store.list!(prefix)) out.push([[...k], v.byteLength]);
  return out;
}

async function fill(store: ByteStore) {
  await store.set(["l1b", "t1", "p", "d", "a"], new Uint8Array(10), 60_000);
  await store.set(["l1b", "t1", "p", "d", "b"], new Uint8Array(200_000), 60_000); // chunked in KV
  await store.set(["l1b", "t2", "p", "d", "c"], new Uint8Array(3), 60_000);
  await store.set(["l1b-answer", "t1", "p", "d", "a"], new Uint8Array(5), 60_000);
  await store.set(["l1a", "t1", "p", "x"], new Uint8Array(5), 60_000);
}

const EXPECTED: [string[], number][] = [
  [["l1b", "t1", "p", "d", "a"], 10],
  [["l1b", "t1", "p", "d", "b"], 200_000],
  [["l1b", "t2", "p", "d", "c"], 3],
];

Deno.test("store list: memory store, prefix-exact, in key order, expired entries left out", async () => {
  let now = 0;
  const store = new MemoryByteStore(() => now);
  await fill(store);
  assert.deepEqual(await listAll(store, ["l1b"]), EXPECTED);
  assert.deepEqual(await listAll(store, ["l1b", "t2"]), [EXPECTED[2]]);
  now = 60_000;
  assert.deepEqual(await listAll(store, ["l1b"]), []);
});

Deno.test("store list: Deno KV (chunked values reassembled), also through the lazy store", async () => {
  const dir = await Deno.makeTempDir({ prefix: "isartor-list-" });
  try {
    const kv = await KvByteStore.open(`${dir}/a.kv`);
    await fill(kv);
    assert.deepEqual(await listAll(kv, ["l1b"]), EXPECTED);
    await kv.close();
    const lazy = new LazyByteStore("kv", () => KvByteStore.open(`${dir}/a.kv`));
    assert.deepEqual(await listAll(lazy, ["l1b", "t1"]), EXPECTED.slice(0, 2));
    await lazy.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
