import assert from "node:assert/strict";
import { MemoryByteStore } from "../../../src/cache/byte_store.ts";
import { hashEmbed } from "../../../src/embed/fallback.ts";
import { gateFeatures } from "../../../src/semantic/lexical_gates.ts";
import type { PartitionRef } from "../../../src/semantic/partition.ts";
import { decodeEntry, encodeEntry, entryKey, loadEntries } from "../../../src/semantic/persist.ts";
import { SemanticIndex } from "../../../src/semantic/semantic_index.ts";

const P: PartitionRef = { tenant: "t", provider: "openai", digest: "d1" };
const Q: PartitionRef = { tenant: "t", provider: "openai", digest: "d2" };

function setup(opts: { maxEntries?: number; perPartition?: number; ttlMs?: number } = {}) {
  let now = 1_000_000;
  const index = new SemanticIndex({
    dims: 384,
    maxEntries: opts.maxEntries ?? 100,
    maxEntriesPerPartition: opts.perPartition ?? 100,
    ttlMs: opts.ttlMs ?? 60_000,
    now: () => now,
  });
  const add = (ref: PartitionRef, text: string) =>
    index.add(
      ref,
      { id: text, text, features: gateFeatures(text), createdAt: now },
      hashEmbed(text),
    );
  const find = (ref: PartitionRef, text: string, threshold = 0.9) =>
    index.lookup(ref, hashEmbed(text), threshold, gateFeatures(text));
  return { index, add, find, advance: (ms: number) => (now += ms) };
}

Deno.test("semantic index: matches inside a partition only, through the gates", () => {
  const { add, find } = setup();
  add(P, "What is the capital of France?");
  assert.equal(
    find(P, "what's the capital of France")?.match?.entry.text,
    "What is the capital of France?",
  );
  assert.equal(find(Q, "what's the capital of France").match, null);
  add(P, "Which process listens on port 8080?");
  const r = find(P, "Which process listens on port 8081?", 0.5);
  assert.equal(r.match, null);
  assert.equal(r.rejectedBy, "numbers");
});

Deno.test("semantic index: LRU per partition and in total; a new answer to the same text replaces", () => {
  const { index, add, find } = setup({ perPartition: 2, maxEntries: 3 });
  add(P, "one apple");
  add(P, "two pears");
  assert.ok(find(P, "one apple").match, "touch: one apple is now the most recent");
  const { evicted } = add(P, "three plums");
  assert.deepEqual(evicted.map((e) => e.text), ["two pears"]);
  add(Q, "four figs");
  const more = add(Q, "five kiwis");
  assert.deepEqual(more.evicted.map((e) => e.text), ["one apple"], "the global LRU went");
  assert.equal(index.size, 3);
  const again = add(Q, "five kiwis");
  assert.deepEqual(again.evicted.map((e) => e.text), ["five kiwis"]);
  assert.equal(index.size, 3);
  assert.equal(index.removeTenant("t").length, 3);
  assert.equal(index.stats().partitions, 0);
});

Deno.test("semantic index: entries expire with the TTL", () => {
  const { add, find, advance, index } = setup({ ttlMs: 1000 });
  add(P, "What is the capital of France?");
  advance(999);
  assert.ok(find(P, "What is the capital of France?").match);
  advance(1);
  assert.equal(find(P, "What is the capital of France?").match, null);
  assert.equal(index.size, 0);
});

Deno.test("persistence: entry records round-trip and load oldest first, fresh and of this embedder only", async () => {
  const store = new MemoryByteStore();
  const put = (ref: PartitionRef, id: string, embedder: string, createdAt: number) =>
    store.set(
      entryKey(ref, id),
      encodeEntry({ embedder, text: id, createdAt, vector: hashEmbed(id) }),
      60_000,
    );
  await put(P, "b", "none:isartor-hash-v1", 300);
  await put(Q, "a", "none:isartor-hash-v1", 200);
  await put(P, "old", "none:isartor-hash-v1", 50);
  await put(P, "other", "minilm:x", 250);
  await store.set(["l1b-answer", "t", "openai", "d1", "b"], new Uint8Array([1]), 60_000);
  const loaded = await loadEntries(store, "none:isartor-hash-v1", 384, 100);
  assert.deepEqual(loaded.map((e) => e.id), ["a", "b"]);
  assert.deepEqual(loaded[1].ref, P);
  assert.deepEqual(loaded[1].vector, hashEmbed("b"));
  assert.equal(decodeEntry(["l1b", "x"], new Uint8Array()), null);
  assert.equal(decodeEntry(entryKey(P, "z"), new TextEncoder().encode("{")), null);
});
