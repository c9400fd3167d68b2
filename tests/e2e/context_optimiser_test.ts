/**
 * L2.5 end to end: a real gateway on 127.0.0.1 and the mock provider. For each protocol, what
 * reached the provider is exactly the optimiser's rewrite (instructions and tool results only),
 * the response says how many tokens it saved, metrics and stats count it; `x-isartor-optimize:
 * off` sends the client's bytes; the exact cache keys the original request; a captured Claude
 * Code request goes upstream rewritten and nothing else changes.
 */
import assert from "node:assert/strict";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startGateway } from "../support/gateway_harness.ts";
import { optimiseRequest } from "../../src/optimise/request.ts";
import { repeatNote } from "../../src/optimise/line_runs.ts";
import type { WireProtocol } from "../../src/protocol/events.ts";
import { loadAgentFixture, rebuildSession } from "../../bench/data/agent_requests.ts";

const NOISY = "<!-- v3, owner: platform -->\nBe brief.   \n\n\n\n----------\n\nAnswer in English.";
const CLEAN = "\nBe brief.\n\nAnswer in English.";
const WARN = "warning: deprecated option --legacy-peer-deps";
const LOG = `start\n${Array(20).fill(WARN).join("\n")}\ndone`;
const FOLDED = `start\n${WARN}\n${repeatNote(19)}\ndone`;
const USER = "keep   \n\n\n\n<!-- mine -->\n-----";

interface Case {
  protocol: WireProtocol;
  provider: string;
  base: string;
  path: string;
  headers?: Record<string, string>;
  body: Record<string, unknown>;
  expected: Record<string, unknown>;
}

const CASES: Case[] = [
  {
    protocol: "openai_chat",
    provider: "openai_compatible",
    base: "/v1",
    path: "/v1/chat/completions",
    body: {
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: NOISY },
        { role: "user", content: USER },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "function", function: { name: "sh", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "c1", content: LOG },
      ],
    },
    expected: {
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: CLEAN },
        { role: "user", content: USER },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "function", function: { name: "sh", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "c1", content: FOLDED },
      ],
    },
  },
  {
    protocol: "openai_responses",
    provider: "openai",
    base: "/v1",
    path: "/v1/responses",
    body: {
      model: "gpt-5",
      instructions: NOISY,
      input: [
        { type: "message", role: "user", content: [{ type: "input_text", text: USER }] },
        { type: "function_call", call_id: "c1", name: "sh", arguments: "{}" },
        { type: "function_call_output", call_id: "c1", output: LOG },
      ],
    },
    expected: {
      model: "gpt-5",
      instructions: CLEAN,
      input: [
        { type: "message", role: "user", content: [{ type: "input_text", text: USER }] },
        { type: "function_call", call_id: "c1", name: "sh", arguments: "{}" },
        { type: "function_call_output", call_id: "c1", output: FOLDED },
      ],
    },
  },
  {
    protocol: "anthropic",
    provider: "anthropic",
    base: "/v1",
    path: "/v1/messages",
    headers: { "anthropic-version": "2023-06-01" },
    body: {
      model: "claude-sonnet-4-5",
      max_tokens: 64,
      system: [{ type: "text", text: NOISY, cache_control: { type: "ephemeral" } }],
      messages: [
        { role: "user", content: [{ type: "text", text: USER }] },
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "sh", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: LOG }] },
      ],
    },
    expected: {
      model: "claude-sonnet-4-5",
      max_tokens: 64,
      system: [{ type: "text", text: CLEAN, cache_control: { type: "ephemeral" } }],
      messages: [
        { role: "user", content: [{ type: "text", text: USER }] },
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "sh", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: FOLDED }] },
      ],
    },
  },
  {
    protocol: "gemini",
    provider: "gemini",
    base: "/v1beta",
    path: "/v1beta/models/gemini-2.5-flash:generateContent",
    body: {
      systemInstruction: { parts: [{ text: NOISY }] },
      contents: [
        { role: "user", parts: [{ text: USER }] },
        { role: "model", parts: [{ functionCall: { name: "sh", args: {} } }] },
        { role: "user", parts: [{ functionResponse: { name: "sh", response: { output: LOG } } }] },
      ],
    },
    expected: {
      systemInstruction: { parts: [{ text: CLEAN }] },
      contents: [
        { role: "user", parts: [{ text: USER }] },
        { role: "model", parts: [{ functionCall: { name: "sh", args: {} } }] },
        {
          role: "user",
          parts: [{ functionResponse: { name: "sh", response: { output: FOLDED } } }],
        },
      ],
    },
  },
];

async function rig(provider: string, base: string, config: Record<string, unknown> = {}) {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    llm_provider: provider,
    external_llm_url: `${mock.url}${base}`,
    external_llm_api_key: "sk-provider",
    ...config,
  });
  return {
    mock,
    gw,
    post(path: string, body: string, headers: Record<string, string> = {}) {
      return fetch(`${gw.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
    },
    async [Symbol.asyncDispose]() {
      await gw.close();
      await mock.close();
    },
  };
}

for (const c of CASES) {
  Deno.test(`context optimiser, ${c.protocol}: the provider gets the rewrite, the client the count`, async () => {
    await using t = await rig(c.provider, c.base);
    const res = await t.post(c.path, JSON.stringify(c.body), c.headers);
    await res.body?.cancel();
    assert.equal(res.status, 200);
    const saved = Number(res.headers.get("x-isartor-context-optimized"));
    assert.ok(
      saved > 0,
      `x-isartor-context-optimized: ${res.headers.get("x-isartor-context-optimized")}`,
    );
    assert.equal(t.mock.requests.length, 1);
    // Exactly the rewrite, as JSON text, and nothing else.
    assert.deepEqual(t.mock.requests[0].body, c.expected);
    assert.equal(t.mock.requests[0].rawBody, JSON.stringify(c.expected));
    assert.equal(
      t.mock.requests[0].headers["content-length"],
      String(new TextEncoder().encode(JSON.stringify(c.expected)).byteLength),
    );
    const metrics = await (await fetch(`${t.gw.url}/metrics`)).text();
    assert.match(
      metrics,
      new RegExp(
        `isartor_tokens_saved_total\\{[^}]*direction="input"[^}]*[{,]layer="l2_5"\\} ${saved}\\b`,
      ),
    );
    const stats = await (await fetch(`${t.gw.url}/api/v1/stats`)).json();
    assert.equal(stats.totals.optimised_requests, 1);
    assert.equal(stats.totals.optimised_tokens_saved, saved);

    // Off for one request: the client's bytes, no header.
    const raw = JSON.stringify(c.body, null, 1);
    const off = await t.post(c.path, raw, { ...c.headers, "x-isartor-optimize": "off" });
    await off.body?.cancel();
    assert.equal(off.headers.get("x-isartor-context-optimized"), null);
    assert.equal(t.mock.requests[1].rawBody, raw);
  });
}

Deno.test("context optimiser: streams carry the header; nothing to change sends the client's bytes", async () => {
  await using t = await rig("openai_compatible", "/v1");
  const body = { ...CASES[0].body, stream: true };
  const res = await t.post("/v1/chat/completions", JSON.stringify(body));
  assert.ok(Number(res.headers.get("x-isartor-context-optimized")) > 0);
  assert.match(await res.text(), /data: \[DONE\]/);
  assert.equal(
    t.mock.requests[0].body && (t.mock.requests[0].body as { stream: boolean }).stream,
    true,
  );
  const clean =
    `{"model":"gpt-4o-mini",  "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"${"hi   \\n\\n\\n"}"}]}`;
  const res2 = await t.post("/v1/chat/completions", clean);
  await res2.body?.cancel();
  assert.equal(res2.headers.get("x-isartor-context-optimized"), null);
  assert.equal(t.mock.requests[1].rawBody, clean);
});

Deno.test("context optimiser: off in config sends the client's bytes; the exact cache keys the original", async () => {
  {
    await using t = await rig("openai_compatible", "/v1", { enable_context_optimizer: false });
    const raw = JSON.stringify(CASES[0].body);
    const res = await t.post("/v1/chat/completions", raw);
    await res.body?.cancel();
    assert.equal(res.headers.get("x-isartor-context-optimized"), null);
    assert.equal(t.mock.requests[0].rawBody, raw);
  }
  await using t = await rig("openai_compatible", "/v1", {
    cache_mode: "exact",
    cache_backend: "memory",
  });
  const body = { ...CASES[0].body, temperature: 0 };
  const first = await t.post("/v1/chat/completions", JSON.stringify(body));
  await first.body?.cancel();
  assert.equal(first.headers.get("x-isartor-layer"), "l3");
  const key = first.headers.get("x-isartor-cache-key");
  // The same original request is a hit (and says nothing about optimising: no call was made).
  const again = await t.post("/v1/chat/completions", JSON.stringify(body));
  await again.body?.cancel();
  assert.equal(again.headers.get("x-isartor-layer"), "l1a");
  assert.equal(again.headers.get("x-isartor-context-optimized"), null);
  // The already-clean text it was rewritten to is another request: another key.
  const rewritten = { ...CASES[0].expected, temperature: 0 };
  const other = await t.post("/v1/chat/completions", JSON.stringify(rewritten));
  await other.body?.cancel();
  assert.equal(other.headers.get("x-isartor-layer"), "l3");
  assert.notEqual(other.headers.get("x-isartor-cache-key"), key ?? "none");
  assert.equal(t.mock.requests.length, 2);
});

Deno.test("context optimiser: a captured Claude Code request reaches the provider as the rewrite", async () => {
  const requests = rebuildSession(await loadAgentFixture("claude"));
  const body = requests.at(-1)!.body;
  const expected = optimiseRequest("anthropic", body, { minify: true, dedup: true });
  assert.ok(expected, "the captured request has something to optimise");
  await using t = await rig("anthropic", "/v1");
  const res = await t.post("/v1/messages", JSON.stringify(body), {
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "claude-code-20250219",
  });
  await res.text();
  assert.equal(res.status, 200);
  assert.equal(Number(res.headers.get("x-isartor-context-optimized")), expected.tokensSaved);
  assert.equal(t.mock.requests[0].rawBody, JSON.stringify(expected.body));
  assert.equal(t.mock.requests[0].headers["anthropic-beta"], "claude-code-20250219");
  // Everything but the instruction file and the tool result is as the client sent it.
  const sent = t.mock.requests[0].body as Record<string, unknown>;
  assert.deepEqual(sent.system, body.system);
  const { messages: a, ...restA } = sent;
  const { messages: b, ...restB } = body;
  assert.deepEqual(restA, restB);
  const changed = (a as unknown[]).map((m, i) =>
    JSON.stringify(m) !== JSON.stringify((b as unknown[])[i])
  );
  assert.deepEqual(changed.flatMap((c, i) => (c ? [i] : [])), [0, 3]);
});
