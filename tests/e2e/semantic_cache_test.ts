// L1b semantic cache on real sockets: paraphrases, gates, partitions, bypass, tenants, restart,
// streams, single-flight, embedder failure.
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import type { Embedder } from "../../src/embed/embedder.ts";
import {
  startGateway,
  startMockedGateway,
  startSimulatedGateway,
} from "../support/gateway_harness.ts";
import { startSimulatedUpstream } from "../../cli/demo_upstream.ts";

const MODEL = "gpt-4o-mini";

function chat(content: string, extra: Record<string, unknown> = {}) {
  return { model: MODEL, temperature: 0, messages: [{ role: "user", content }], ...extra };
}

/** L1b alone (the exact cache off, so every repeat is L1b's to answer) unless `config` says otherwise. */
function setup(
  config: Record<string, unknown> = {},
  options: { embedder?: Embedder; latencyMs?: number } = {},
) {
  return startSimulatedGateway({ cache_mode: "semantic", ...config }, options);
}

async function send(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  return {
    status: res.status,
    layer: res.headers.get("x-isartor-layer"),
    similarity: res.headers.get("x-isartor-similarity"),
    headers: res.headers,
    text: json?.choices?.[0]?.message?.content as string | undefined,
  };
}

Deno.test("l1b: a paraphrase is answered from the first question's recording", async () => {
  await using t = await setup({ cache_mode: "both", similarity_threshold: 0.8 });
  const first = await send(t.gw.url, chat("How do I reset my password?"));
  assert.equal(first.layer, "l3");
  const again = await send(t.gw.url, chat("how can i reset my password?"));
  assert.equal(again.layer, "l1b");
  assert.equal(again.headers.get("x-isartor-deflected"), "true");
  assert.match(again.similarity ?? "", /^0\.\d{4}$/);
  assert.ok(Number(again.similarity) >= 0.8 && Number(again.similarity) < 1);
  assert.match(again.headers.get("age") ?? "", /^\d+$/);
  assert.equal(again.text, first.text, "the first question's answer, byte for byte");
  assert.equal(t.sim.calls, 1);
  // The exact repeat of the paraphrase is L1a's, the original is still L1a's too.
  assert.equal((await send(t.gw.url, chat("How do I reset my password?"))).layer, "l1a");
  // The native API shows the same headers.
  const native = async (prompt: string) => {
    const res = await fetch(`${t.gw.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt, model: MODEL }),
    });
    return { body: await res.json(), similarity: res.headers.get("x-isartor-similarity") };
  };
  assert.equal((await native("What is the boiling point of water?")).body.layer, "l3");
  const hit = await native("what's the boiling point of water");
  assert.equal(hit.body.layer, "l1b");
  assert.equal(hit.similarity, "1.0000");
  const stats = await (await fetch(`${t.gw.url}/api/v1/cache/stats`)).json();
  assert.equal(stats.l1b.hits, 2);
  assert.equal(stats.l1b.embedder, "none");
});

Deno.test("l1b: the lexical gates turn close but different questions into misses", async () => {
  // A low threshold, so that only the gates stand between these pairs and a wrong hit.
  await using t = await setup({ similarity_threshold: 0.5 });
  const pairs = [
    ["How do I turn on dark mode?", "How do I turn off dark mode?"],
    ["Which process listens on port 8080?", "Which process listens on port 8081?"],
    ["Why does my build work?", "Why doesn't my build work?"],
    ["What does `parseConfig` return?", "What does `parseToml` return?"],
    ["Open ./src/app.ts and explain it", "Open ./src/server.ts and explain it"],
    // Off every list: only the benign-difference check stands in the way.
    ["Set the request timeout to 30 seconds", "Set the request timeout to 30 minutes"],
    ["How do I reverse a list in place in python?", "How do I reverse a list in place in rust?"],
  ];
  for (const [a, b] of pairs) {
    assert.equal((await send(t.gw.url, chat(a))).layer, "l3", a);
    const r = await send(t.gw.url, chat(b));
    assert.equal(r.layer, "l3", `${b} must not match ${a}`);
    assert.ok(r.text?.includes(b.slice(0, 20)), "its own answer");
  }
  const stats = await (await fetch(`${t.gw.url}/api/v1/cache/stats`)).json();
  assert.ok(stats.l1b.gate_rejections >= 4, `gate rejections: ${stats.l1b.gate_rejections}`);
  const metrics = await (await fetch(`${t.gw.url}/metrics`)).text();
  assert.match(metrics, /isartor_semantic_rejections_total\{reason="word"\} [1-9]/);
  assert.match(metrics, /isartor_semantic_rejections_total\{reason="numbers"\} [1-9]/);
  // Above the same low threshold, a harmless rewording still hits.
  assert.equal((await send(t.gw.url, chat("how do i turn ON dark mode"))).layer, "l1b");
});

Deno.test("l1b: a match never crosses conversations, system prompts, models or parameters", async () => {
  await using t = await setup();
  const turns = (topic: string) => [
    { role: "user", content: `Let us talk about ${topic}.` },
    { role: "assistant", content: "Sure." },
    { role: "user", content: "What are the main risks?" },
    { role: "assistant", content: "Several." },
    { role: "user", content: "Which one matters most?" },
    { role: "assistant", content: "The first." },
    { role: "user", content: "Why is that?" },
    { role: "assistant", content: "Because." },
  ];
  const fifth = (topic: string, q: string) => ({
    model: MODEL,
    temperature: 0,
    messages: [...turns(topic), { role: "user", content: q }],
  });
  assert.equal((await send(t.gw.url, fifth("nuclear power", "How do we reduce it?"))).layer, "l3");
  // The same fifth question after other earlier turns is another partition.
  assert.equal((await send(t.gw.url, fifth("coal mining", "How do we reduce it?"))).layer, "l3");
  // The same conversation, the last turn reworded: a hit.
  assert.equal((await send(t.gw.url, fifth("nuclear power", "how do we reduce it"))).layer, "l1b");
  // A first question matches only with the same system prompt, model and parameters.
  assert.equal((await send(t.gw.url, chat("What is the capital of France?"))).layer, "l3");
  const variants = [
    chat("what's the capital of France", { model: "gpt-4o" }),
    chat("what's the capital of France", { temperature: 0.5 }),
    chat("what's the capital of France", { max_tokens: 5 }),
    {
      ...chat("what's the capital of France"),
      messages: [{ role: "system", content: "Answer in French." }, {
        role: "user",
        content: "what's the capital of France",
      }],
    },
  ];
  for (const v of variants) assert.equal((await send(t.gw.url, v)).layer, "l3", JSON.stringify(v));
  assert.equal((await send(t.gw.url, chat("what's the capital of France"))).layer, "l1b");
});

Deno.test("l1b: tool results, images and Cache-Control no-store bypass the lookup", async () => {
  await using t = await setup();
  const toolTurn = {
    model: MODEL,
    temperature: 0,
    messages: [
      { role: "user", content: "Weather in Oslo?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{
          id: "c1",
          type: "function",
          function: { name: "weather", arguments: '{"city":"Oslo"}' },
        }],
      },
      { role: "tool", tool_call_id: "c1", content: "12°C, rain" },
    ],
  };
  const image = chat("", {
    messages: [{
      role: "user",
      content: [{ type: "text", text: "What is in this picture?" }, {
        type: "image_url",
        image_url: { url: "data:image/png;base64,iVBORw0KGgo=" },
      }],
    }],
  });
  for (const body of [toolTurn, toolTurn, image, image]) {
    assert.equal((await send(t.gw.url, body)).layer, "l3");
  }
  const q = chat("What is the capital of Peru?");
  assert.equal((await send(t.gw.url, q, { "cache-control": "no-store" })).layer, "l3");
  assert.equal((await send(t.gw.url, q)).layer, "l3", "no-store wrote nothing");
  assert.equal((await send(t.gw.url, q)).layer, "l1b");
  assert.equal((await send(t.gw.url, q, { "x-isartor-cache": "off" })).layer, "l3");
  const stats = await (await fetch(`${t.gw.url}/api/v1/cache/stats`)).json();
  assert.equal(stats.l1b.bypassed, 6);
});

Deno.test("l1b: tenants never share an entry; a tenant's DELETE clears only its own", async () => {
  await using t = await setup({ gateway_api_key: "gw", tenant_header: "x-team" });
  const as = (team: string) => ({ "x-api-key": "gw", "x-team": team });
  assert.equal(
    (await send(t.gw.url, chat("What is the capital of Chile?"), as("red"))).layer,
    "l3",
  );
  const paraphrase = chat("what's the capital of Chile");
  assert.equal((await send(t.gw.url, paraphrase, as("blue"))).layer, "l3");
  assert.equal((await send(t.gw.url, paraphrase, as("red"))).layer, "l1b");
  const del = await fetch(`${t.gw.url}/api/v1/cache`, { method: "DELETE", headers: as("blue") });
  assert.deepEqual(await del.json(), { deleted: 1, scope: "tenant" });
  assert.equal((await send(t.gw.url, paraphrase, as("red"))).layer, "l1b");
  assert.equal((await send(t.gw.url, paraphrase, as("blue"))).layer, "l3");
});

Deno.test("l1b: entries survive a restart (Deno KV): the index is rebuilt from the store", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "isartor-l1b-kv-" });
  const sim = await startSimulatedUpstream({ latencyMs: 0 });
  const config = {
    llm_provider: "openai_compatible",
    external_llm_url: sim.url,
    cache_mode: "semantic",
    cache_backend: "kv",
    embedding_backend: "none",
    data_dir: dataDir,
  };
  try {
    const gw1 = await startGateway(config);
    const first = await send(gw1.url, chat("What is the tallest mountain in Africa?"));
    await new Promise((r) => setTimeout(r, 100)); // let the background writes land
    await gw1.close();
    const gw2 = await startGateway(config);
    // The first request rebuilds the index from the store (and waits for it).
    const again = await send(gw2.url, chat("what's the tallest mountain in Africa"));
    assert.equal(again.layer, "l1b");
    assert.equal(again.text, first.text);
    assert.equal(sim.calls, 1);
    await gw2.close();
  } finally {
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("l1b: a hit replays as a stream through the OpenAI SDK, event by event", async () => {
  await using t = await setup();
  const client = new OpenAI({ apiKey: "x", baseURL: `${t.gw.url}/v1`, maxRetries: 0 });
  const collect = async (content: string) => {
    const { data, response } = await client.chat.completions.create({
      model: MODEL,
      temperature: 0,
      messages: [{ role: "user", content }],
      stream: true,
      stream_options: { include_usage: true },
    }).withResponse();
    const chunks: unknown[] = [];
    for await (const c of data) chunks.push(JSON.parse(JSON.stringify(c)));
    return { chunks, layer: response.headers.get("x-isartor-layer") };
  };
  const first = await collect("Explain how to install Python packages");
  const second = await collect("explain how to install python packages, please");
  assert.equal(first.layer, "l3");
  assert.equal(second.layer, "l1b");
  assert.deepEqual(second.chunks, first.chunks);
  // A JSON request is served from the recorded stream too.
  const plain = await client.chat.completions.create({
    model: MODEL,
    temperature: 0,
    messages: [{ role: "user", content: "Explain how to install Python packages!" }],
  });
  assert.match(plain.choices[0].message.content ?? "", /install Python packages/);
  assert.equal(t.sim.calls, 1);
});

Deno.test("l1b: Anthropic requests hit in their own partition, with tool-result turns bypassing", async () => {
  await using t = await startMockedGateway({
    llm_provider: "anthropic",
    external_llm_api_key: "sk-ant",
    cache_mode: "semantic",
    embedding_backend: "none",
  });
  const client = new Anthropic({ apiKey: "x", baseURL: t.gw.url, maxRetries: 0 });
  const ask = async (messages: Anthropic.MessageParam[]) => {
    const { response } = await client.messages.create({
      model: "claude-test",
      max_tokens: 100,
      system: "Be brief.",
      messages,
    }).withResponse();
    return response.headers.get("x-isartor-layer");
  };
  assert.equal(await ask([{ role: "user", content: "What is the speed of light?" }]), "l3");
  assert.equal(
    await ask([{ role: "user", content: [{ type: "text", text: "what's the speed of light" }] }]),
    "l1b",
  );
  const toolResult: Anthropic.MessageParam[] = [
    { role: "user", content: "What is the speed of light?" },
    {
      role: "assistant",
      content: [{ type: "tool_use", id: "t1", name: "lookup", input: { q: "c" } }],
    },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "299792458" }] },
  ];
  assert.equal(await ask(toolResult), "l3");
  assert.equal(await ask(toolResult), "l3");
  assert.equal(t.mock.requests.length, 3);
});

Deno.test("l1b: concurrent misses of one question call the upstream once", async () => {
  await using t = await setup({}, { latencyMs: 150 });
  const results = await Promise.all(
    Array.from({ length: 20 }, () => send(t.gw.url, chat("What is the capital of Kenya?"))),
  );
  assert.equal(t.sim.calls, 1);
  assert.equal(new Set(results.map((r) => r.text)).size, 1);
  assert.equal(results.filter((r) => r.layer === "l1b").length, 19);
  const stats = await (await fetch(`${t.gw.url}/api/v1/cache/stats`)).json();
  assert.equal(stats.l1b.coalesced, 19);
});

Deno.test("l1b: a failing embedder passes requests on, warns once, and health names the backend", async () => {
  const failing: Embedder = {
    name: "broken",
    model: "none",
    dims: 8,
    embed: () => Promise.reject(new Error("model crashed")),
    close: () => Promise.resolve(),
  };
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(" "));
  try {
    await using t = await setup({}, { embedder: failing });
    for (let i = 0; i < 3; i++) {
      assert.equal((await send(t.gw.url, chat("What is 2+2?"))).layer, "l3");
    }
    assert.equal(warnings.filter((w) => w.includes("broken embedder failed")).length, 1);
    const health = await (await fetch(`${t.gw.url}/health`)).json();
    assert.equal(health.embedder.backend, "broken");
    assert.match(health.layers.l1b, /^on \(embedder broken/);
  } finally {
    console.warn = warn;
  }
  await using t2 = await setup();
  const health = await (await fetch(`${t2.gw.url}/health`)).json();
  assert.deepEqual(health.embedder, {
    backend: "none",
    model: "isartor-hash-v1",
    dims: 384,
    similarity_threshold: 0.7,
  });
});
