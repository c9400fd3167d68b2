/**
 * Scenario `l2_router`: what L2 costs.
 *
 * Embedded: a random-weight GGUF with Qwen2.5-0.5B-Instruct's shape (24 layers, hidden 896,
 * 14 heads / 2 KV heads, feed-forward 4864, vocabulary 151,936) in Q4_0 (the default model is
 * Q4_K_M: about the same bytes per weight), loaded through the real wllama code in a subprocess
 * of its own so the RSS it adds is measured alone. Speed depends on the shape, not on the weights.
 * Measured: load time, RSS added, the classifier call (one token after the classifier prompt),
 * time to the first answer token, and decode tokens per second. The test vocabulary has no merged
 * tokens, so a prompt costs about one token per byte here (about four times a real BPE prompt): the
 * prompt figures are pessimistic.
 *
 * Remote: a gateway with `router_backend = "remote"` against a mock OpenAI-compatible server on
 * 127.0.0.1 (no model time), versus calling that server directly for the same two requests
 * (classify, then answer): the difference is what L2 itself adds.
 *
 * @module
 */

import { loadEmbeddedSlm } from "../../src/slm/embedded.ts";
import type { SlmChunk, SlmRequest } from "../../src/slm/backend.ts";
import { QWEN2_5_0_5B_SHAPE, writeTinyGguf } from "../../tests/support/tiny_gguf.ts";
import { l2Config, startMockSlm } from "../../tests/support/mock_slm.ts";
import { startGateway } from "../../tests/support/gateway_harness.ts";
import { startMockUpstream } from "../../tests/support/mock_upstream.ts";
import { fmt } from "../format.ts";
import { checkTarget, round, type SampleSummary, summarize } from "../stats.ts";
import type { ScenarioContext, ScenarioResult, Table } from "../types.ts";

/** Scenario id. */
export const name = "l2_router";

/** What the scenario measures. */
export const description =
  "L2: Qwen2.5-0.5B-shaped GGUF in wllama (classify, TTFT, tok/s, RSS); remote overhead vs a mock";

interface ProbeResult {
  file_mb: number;
  load_ms: number;
  rss_added_mib: number;
  classify_ms: SampleSummary;
  classify_prompt_tokens: number;
  prompt_tokens_per_s: number;
  ttft_ms: SampleSummary;
  decode_tokens_per_s: number;
  decoded_tokens: number;
}

const CLASSIFY_SYSTEM =
  "You route questions. Reply with exactly one digit and nothing else.\n1 = simple: a greeting, a definition, a well-known fact.\n2 = complex: anything else.";

async function timed(
  gen: AsyncIterable<SlmChunk>,
): Promise<{ first: number; end: number; tokens: number; input: number }> {
  const t0 = performance.now();
  let first = -1;
  let tokens = 0;
  let input = 0;
  for await (const c of gen) {
    if (c.type === "text") {
      if (first < 0) first = performance.now() - t0;
      tokens++;
    } else input = c.inputTokens;
  }
  return { first, end: performance.now() - t0, tokens, input };
}

/** Runs in the subprocess: loads the model and measures it. */
async function probe(path: string, samples: number, decode: number): Promise<ProbeResult> {
  const rss0 = Deno.memoryUsage().rss;
  const t0 = performance.now();
  const slm = await loadEmbeddedSlm({ modelPath: path, model: "qwen-shaped", nCtx: 2048 });
  const loadMs = performance.now() - t0;
  const rssAdded = (Deno.memoryUsage().rss - rss0) / 2 ** 20;
  const signal = new AbortController().signal;
  const req = (question: string, maxTokens: number, system?: string): SlmRequest => ({
    messages: [
      ...(system ? [{ role: "system" as const, content: system }] : []),
      { role: "user", content: question },
    ],
    maxTokens,
    temperature: 0,
    topLogprobs: maxTokens === 1 ? 10 : undefined,
    signal,
  });
  try {
    const classify: number[] = [];
    const ttft: number[] = [];
    let promptTokens = 0;
    for (let i = 0; i < samples; i++) {
      // A different question each time: no prompt-cache reuse beyond the shared prefix.
      const q = `What is the capital of country number ${i}?`;
      const c = await timed(slm.generate(req(q, 1, CLASSIFY_SYSTEM)));
      classify.push(c.end);
      promptTokens = c.input;
      const a = await timed(slm.generate(req(`Say hello to person ${i}.`, 1)));
      ttft.push(a.first);
    }
    // Decode speed: a long answer, minus its time to first token.
    const long = await timed(slm.generate(req("Tell me a long story.", decode)));
    const decodeS = (long.end - long.first) / 1000;
    // Prompt speed: a cold prompt of known length (bytes are tokens in this vocabulary).
    const cold = await timed(slm.generate(req("x".repeat(400) + " unique prompt", 1)));
    return {
      file_mb: round((await Deno.stat(path)).size / 1e6, 0),
      load_ms: round(loadMs, 0),
      rss_added_mib: round(rssAdded, 0),
      classify_ms: summarize(classify),
      classify_prompt_tokens: promptTokens,
      prompt_tokens_per_s: round(cold.input / (cold.end / 1000), 1),
      ttft_ms: summarize(ttft),
      decode_tokens_per_s: round((long.tokens - 1) / decodeS, 2),
      decoded_tokens: long.tokens,
    };
  } finally {
    await slm.close();
  }
}

async function runProbe(ctx: ScenarioContext, path: string, samples: number, decode: number) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      `${ctx.repoRoot}/deno.json`,
      "--allow-read",
      "--allow-env",
      "--allow-sys",
      new URL(import.meta.url).pathname,
      "--probe",
      JSON.stringify({ path, samples, decode }),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (!out.success) {
    throw new Error(`l2 probe failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return JSON.parse(text) as ProbeResult;
}

/** Remote: L2 through the gateway vs the same two calls made directly. */
async function remoteOverhead(samples: number) {
  const slm = await startMockSlm({ answer: "The capital of France is Paris.", pieceChars: 4 });
  const upstream = await startMockUpstream();
  const gw = await startGateway(l2Config(upstream.url, {
    router_backend: "remote",
    vllm_url: `${slm.url}/v1`,
    vllm_model: "bench-model",
  }));
  const post = (url: string, body: unknown) =>
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then((r) => r.text());
  const question = [{ role: "user", content: "What is the capital of France?" }];
  const direct: number[] = [];
  const through: number[] = [];
  try {
    for (let i = 0; i < samples + 20; i++) {
      let t = performance.now();
      await post(`${slm.url}/v1/chat/completions`, {
        model: "m",
        messages: question,
        max_tokens: 1,
        logprobs: true,
        top_logprobs: 10,
        stream: true,
      });
      await post(`${slm.url}/v1/chat/completions`, {
        model: "m",
        messages: question,
        stream: true,
      });
      const d = performance.now() - t;
      t = performance.now();
      await post(`${gw.url}/v1/chat/completions`, { model: "m", messages: question });
      const g = performance.now() - t;
      if (i >= 20) { // warm-up excluded
        direct.push(d);
        through.push(g);
      }
    }
  } finally {
    await gw.close();
    await slm.close();
    await upstream.close();
  }
  return { direct: summarize(direct), gateway: summarize(through) };
}

/** Runs the scenario. */
export async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const path = `${ctx.scratchDir}/qwen2.5-0.5b-shaped-q4_0.gguf`;
  ctx.log("writing a random GGUF with Qwen2.5-0.5B's shape (Q4_0)");
  const t0 = performance.now();
  await Deno.writeFile(path, writeTinyGguf({ shape: QWEN2_5_0_5B_SHAPE, name: "qwen-shaped" }));
  ctx.log(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const samples = ctx.quick ? 2 : 3;
  const decode = ctx.quick ? 16 : 32;
  ctx.log(`  embedded probe: ${samples} classify + TTFT samples, ${decode} decoded tokens`);
  const e = await runProbe(ctx, path, samples, decode);
  await Deno.remove(path).catch(() => {});
  ctx.log("  remote: gateway vs direct, mock model server");
  const r = await remoteOverhead(ctx.quick ? 30 : 200);
  const overhead = r.gateway.p50_ms - r.direct.p50_ms;
  const openingTokens = 16; // 64 characters held back for the quality gate
  // llama.cpp keeps the classifier's system prompt cached: a classify call evaluates the question.
  const firstByte = e.classify_ms.p50_ms + e.ttft_ms.p50_ms +
    openingTokens * 1000 / e.decode_tokens_per_s;
  const embedded: Table = {
    title: "L2 embedded: Qwen2.5-0.5B shape, Q4_0 random weights, wllama single-threaded",
    columns: ["measure", "value"],
    rows: [
      ["GGUF size", `${e.file_mb} MB`],
      ["load", `${fmt(e.load_ms / 1000, 1)} s`],
      ["RSS added", `${e.rss_added_mib} MiB`],
      [
        `classify p50 (${e.classify_prompt_tokens} byte tokens, system prompt cached)`,
        `${fmt(e.classify_ms.p50_ms, 0)} ms`,
      ],
      ["prompt evaluation, cold", `${e.prompt_tokens_per_s} tok/s`],
      ["answer TTFT p50", `${fmt(e.ttft_ms.p50_ms, 0)} ms`],
      ["decode", `${e.decode_tokens_per_s} tok/s`],
      ["first byte to client (derived)", `${fmt(firstByte / 1000, 1)} s`],
    ],
  };
  const remote: Table = {
    title: "L2 remote: gateway (classify + answer, JSON) vs the same two calls direct, mock server",
    columns: ["path", "p50 ms", "p90 ms", "p99 ms"],
    rows: [
      ["direct", fmt(r.direct.p50_ms, 2), fmt(r.direct.p90_ms, 2), fmt(r.direct.p99_ms, 2)],
      ["through L2", fmt(r.gateway.p50_ms, 2), fmt(r.gateway.p90_ms, 2), fmt(r.gateway.p99_ms, 2)],
    ],
  };
  return {
    data: {
      embedded: e,
      remote: r,
      derived: { first_byte_ms: round(firstByte, 0) },
    },
    targets: {
      remote_overhead_p50: checkTarget(
        "L2 remote: added p50 over the two direct calls",
        round(overhead, 2),
        "ms",
        "<",
        5,
      ),
    },
    tables: [embedded, remote],
    notes: [
      "Embedded numbers are for one WASM thread on this machine; a remote llama.cpp/vLLM server is the fast path.",
      `first byte = classify + answer TTFT + ${openingTokens} tokens of opening held for the quality gate.`,
      "The test vocabulary has no merged tokens (one token per byte): real prompts are about 4x fewer tokens.",
    ],
  };
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--probe");
  if (i >= 0) {
    const { path, samples, decode } = JSON.parse(Deno.args[i + 1]);
    console.log(JSON.stringify(await probe(path, samples, decode)));
  }
}
