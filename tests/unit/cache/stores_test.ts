import assert from "node:assert/strict";
import { MemoryByteStore } from "../../../src/cache/byte_store.ts";
import { KvByteStore } from "../../../src/cache/kv_store.ts";
import type { Recording } from "../../../src/cache/recording.ts";
import { isCompleteAnswer, recordJson, SseRecorder } from "../../../src/cache/recording.ts";
import { RecordingCache } from "../../../src/cache/recording_cache.ts";

function rec(text: string, createdAt = 0): Recording {
  return {
    v: 1,
    protocol: "openai_chat",
    mode: "json",
    json: JSON.stringify({ text }),
    events: [{ type: "start", id: "x", model: "m" }, { type: "text", text }, {
      type: "stop",
      reason: "end_turn",
    }],
    createdAt,
  };
}

Deno.test("recording cache: LRU bounded by entries and by bytes", async () => {
  let now = 0;
  const cache = new RecordingCache(null, {
    maxEntries: 2,
    maxBytes: 10_000,
    ttlMs: 1000,
    now: () => now,
  });
  await cache.set(["a"], rec("a"));
  await cache.set(["b"], rec("b"));
  assert.ok(await cache.get(["a"]), "a is now the most recent");
  await cache.set(["c"], rec("c"));
  assert.equal(await cache.get(["b"]), null, "b was the least recently used");
  assert.ok(await cache.get(["a"]));
  assert.equal(cache.stats().entries, 2);

  const small = new RecordingCache(null, {
    maxEntries: 100,
    maxBytes: 600,
    ttlMs: 1000,
    now: () => now,
  });
  await small.set(["x"], rec("x".repeat(200)));
  await small.set(["y"], rec("y".repeat(200)));
  assert.ok(small.stats().bytes <= 600);
  assert.equal(await small.get(["x"]), null);
  now = 2000;
  assert.equal(await cache.get(["a"]), null, "expired after the TTL");
});

Deno.test("recording cache: reads through to the persistent store, which outlives memory", async () => {
  const store = new MemoryByteStore();
  const a = new RecordingCache(store, { maxEntries: 10, maxBytes: 1e6, ttlMs: 60_000 });
  await a.set(["l1a", "t", "p", "k"], rec("hello", Date.now()));
  const b = new RecordingCache(store, { maxEntries: 10, maxBytes: 1e6, ttlMs: 60_000 });
  assert.equal((await b.get(["l1a", "t", "p", "k"]))?.events[1].type, "text");
  assert.equal(await b.deletePrefix(["l1a", "t"]), 1);
  assert.equal(await b.get(["l1a", "t", "p", "k"]), null);
});

Deno.test("recording cache: a failing store degrades to memory and reports the error", async () => {
  const errors: string[] = [];
  const broken = {
    kind: "broken",
    get: () => Promise.reject(new Error("locked")),
    set: () => Promise.reject(new Error("full")),
    delete: () => Promise.reject(new Error("x")),
    deletePrefix: () => Promise.reject(new Error("x")),
    close: () => Promise.resolve(),
  };
  const cache = new RecordingCache(broken, {
    maxEntries: 10,
    maxBytes: 1e6,
    ttlMs: 60_000,
    onStoreError: (op) => errors.push(op),
  });
  assert.equal(await cache.get(["k"]), null);
  await cache.set(["k"], rec("v", Date.now()));
  assert.ok(await cache.get(["k"]), "memory still serves");
  assert.deepEqual(errors, ["get", "set"]);
  assert.equal(cache.stats().storeErrors, 2);
});

Deno.test("kv store: values over 64 KiB are chunked and read back whole", async () => {
  const dir = await Deno.makeTempDir();
  const store = await KvByteStore.open(`${dir}/t.kv`);
  try {
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    await store.set(["l1a", "t", "p", "big"], big, 60_000);
    await store.set(["l1a", "t", "p", "small"], new Uint8Array([1, 2, 3]), 60_000);
    assert.deepEqual(await store.get(["l1a", "t", "p", "big"]), big);
    assert.deepEqual(await store.get(["l1a", "t", "p", "small"]), new Uint8Array([1, 2, 3]));
    // Overwriting with a smaller value never mixes chunks of two writes.
    await store.set(["l1a", "t", "p", "big"], new Uint8Array(70_000).fill(7), 60_000);
    assert.deepEqual(await store.get(["l1a", "t", "p", "big"]), new Uint8Array(70_000).fill(7));
    assert.equal(await store.deletePrefix(["l1a", "t"]), 2);
    assert.equal(await store.get(["l1a", "t", "p", "big"]), null);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("recordings: only complete answers are recorded", () => {
  const enc = new TextEncoder();
  const ok = {
    id: "c",
    object: "chat.completion",
    created: 1,
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
  };
  assert.ok(recordJson("openai_chat", enc.encode(JSON.stringify(ok))));
  assert.equal(recordJson("openai_chat", enc.encode("{not json")), null);
  assert.equal(recordJson("openai_chat", enc.encode("{}")), null, "no content");
  const filtered = { ...ok, choices: [{ ...ok.choices[0], finish_reason: "content_filter" }] };
  assert.equal(recordJson("openai_chat", enc.encode(JSON.stringify(filtered))), null);
  assert.equal(isCompleteAnswer([{ type: "text", text: "x" }]), false, "no stop event");

  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    `data: ${
      JSON.stringify({
        id: "c",
        object: "chat.completion.chunk",
        created: 1,
        model: "m",
        choices: [{ index: 0, delta, finish_reason: finish }],
      })
    }\n\n`;
  const whole = chunk({ role: "assistant", content: "" }) + chunk({ content: "hi" }) +
    chunk({}, "stop") + "data: [DONE]\n\n";
  const r1 = new SseRecorder("openai_chat", false);
  r1.push(enc.encode(whole));
  assert.equal(r1.finish()?.sse?.length, 4);
  // The same stream cut before its terminal event is not a recording.
  const r2 = new SseRecorder("openai_chat", false);
  r2.push(enc.encode(chunk({ role: "assistant", content: "" }) + chunk({ content: "hi" })));
  assert.equal(r2.finish(), null);
  // A stream that ended after its finish chunk but without [DONE] is not complete either.
  const r3 = new SseRecorder("openai_chat", false);
  r3.push(
    enc.encode(
      chunk({ role: "assistant", content: "" }) + chunk({ content: "hi" }) + chunk({}, "stop"),
    ),
  );
  assert.equal(r3.finish(), null);
  // Nor one that was asked for a usage chunk and got none.
  const r4 = new SseRecorder("openai_chat", true);
  r4.push(enc.encode(whole));
  assert.equal(r4.finish(), null);
});

Deno.test("recordings: parts the events cannot carry make a recording native-only", async () => {
  const { canReplay } = await import("../../../src/cache/recording.ts");
  const enc = new TextEncoder();
  const base = {
    id: "c",
    object: "chat.completion",
    created: 1,
    model: "m",
    choices: [{
      index: 0,
      message: { role: "assistant", content: "hi" },
      finish_reason: "stop",
      logprobs: null,
    }],
  };
  const plain = recordJson("openai_chat", enc.encode(JSON.stringify(base)))!;
  assert.equal(plain.nativeOnly, undefined);
  const withLogprobs = recordJson(
    "openai_chat",
    enc.encode(JSON.stringify({
      ...base,
      choices: [{ ...base.choices[0], logprobs: { content: [{ token: "hi", logprob: -0.1 }] } }],
    })),
  )!;
  assert.equal(withLogprobs.nativeOnly, true);
  const req = (stream: boolean) => ({
    protocol: "openai_chat" as const,
    body: { stream },
    raw: new Uint8Array(),
    model: "m",
    stream,
    headers: new Headers(),
    signal: new AbortController().signal,
  });
  assert.equal(canReplay(withLogprobs, req(false)), true, "same protocol and mode: native replay");
  assert.equal(canReplay(withLogprobs, req(true)), false, "a stream would lose the logprobs");
  assert.equal(canReplay(plain, req(true)), true);
  const cited = recordJson(
    "anthropic",
    enc.encode(JSON.stringify({
      id: "msg",
      type: "message",
      role: "assistant",
      model: "m",
      content: [{
        type: "text",
        text: "x",
        citations: [{ type: "char_location", cited_text: "x" }],
      }],
      stop_reason: "end_turn",
      usage: { input_tokens: 1, output_tokens: 1 },
    })),
  )!;
  assert.equal(cited.nativeOnly, true);
});
