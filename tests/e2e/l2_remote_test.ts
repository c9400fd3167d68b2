// L2 with the remote backend: a mock OpenAI-compatible model server on 127.0.0.1
// answers simple questions; everything else, errors, timeouts and bad answers reach L3.
import assert from "node:assert/strict";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startGateway, type TestGateway } from "../support/gateway_harness.ts";
import { l2Config, type MockSlm, startMockSlm } from "../support/mock_slm.ts";
import { SseParser } from "../../src/protocol/sse.ts";

type Json = Record<string, unknown>;

async function setup(
  extra: Json = {},
  slmInit: Parameters<typeof startMockSlm>[0] = {},
  withV1 = true,
) {
  const upstream = await startMockUpstream({ answer: { text: "from the cloud" } });
  const slm = await startMockSlm(slmInit);
  const gw = await startGateway(l2Config(upstream.url, {
    router_backend: "vllm",
    vllm_url: withV1 ? `${slm.url}/v1` : slm.url,
    vllm_model: "qwen2.5-0.5b-instruct",
    ...extra,
  }));
  return {
    upstream,
    slm,
    gw,
    async close() {
      await gw.close();
      await slm.close();
      await upstream.close();
    },
  };
}

function chat(gw: TestGateway, body: Json, path = "/v1/chat/completions") {
  return fetch(`${gw.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

const QUESTION = {
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "What is the capital of France?" }],
};

function decisions(gw: TestGateway): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of gw.gateway.metrics.render().split("\n")) {
    const m = /^isartor_l2_decisions_total\{outcome="(\w+)"\} (\d+)/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

async function sse(res: Response): Promise<{ event?: string; data: string }[]> {
  const parser = new SseParser();
  const events = parser.push(await res.text());
  return [...events, ...parser.flush()];
}

Deno.test("l2 remote: a simple question is answered by the small model, named, not by L3", async () => {
  for (const withV1 of [true, false]) {
    const t = await setup({}, {}, withV1);
    try {
      const res = await chat(t.gw, QUESTION);
      const body = await res.json();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-isartor-layer"), "l2");
      assert.equal(res.headers.get("x-isartor-l2-model"), "qwen2.5-0.5b-instruct");
      assert.equal(body.model, "qwen2.5-0.5b-instruct");
      assert.equal(body.choices[0].message.content, "The capital of France is Paris.");
      assert.equal(body.choices[0].finish_reason, "stop");
      assert.equal(body.usage.prompt_tokens, 12);
      assert.equal(t.upstream.requests.length, 0);
      // The classifier asked for one token with log-probabilities; the answer for the rest.
      assert.equal(t.slm.requests[0].max_tokens, 1);
      assert.equal(t.slm.requests[0].logprobs, true);
      assert.deepEqual(t.slm.requests[1].messages, QUESTION.messages);
      assert.equal(decisions(t.gw).answered, 1);
    } finally {
      await t.close();
    }
  }
});

Deno.test("l2 remote: tools, conversations, agent prompts and images never reach the model", async () => {
  const t = await setup();
  try {
    const agentSystem = "You are Claude Code, an interactive CLI tool. # Tools\nUse the tools.";
    const cases: Json[] = [
      { ...QUESTION, tools: [{ type: "function", function: { name: "f", parameters: {} } }] },
      {
        ...QUESTION,
        messages: [
          { role: "user", content: "Hi" },
          { role: "assistant", content: "Hello!" },
          { role: "user", content: "What is the capital of France?" },
        ],
      },
      { ...QUESTION, messages: [{ role: "system", content: agentSystem }, QUESTION.messages[0]] },
      {
        ...QUESTION,
        messages: [{ role: "system", content: "x".repeat(5000) }, QUESTION.messages[0]],
      },
      {
        ...QUESTION,
        messages: [{
          role: "user",
          content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } }],
        }],
      },
      { ...QUESTION, response_format: { type: "json_object" } },
      {
        ...QUESTION,
        messages: [
          { role: "user", content: "run it" },
          { role: "tool", tool_call_id: "c1", content: "42" },
        ],
      },
    ];
    for (const body of cases) {
      const res = await chat(t.gw, body);
      await res.body?.cancel();
      assert.equal(res.headers.get("x-isartor-layer"), "l3", JSON.stringify(body).slice(0, 80));
    }
    assert.equal(t.slm.requests.length, 0);
    assert.equal(decisions(t.gw).not_eligible, cases.length);
    // A short plain system prompt is fine.
    const ok = await chat(t.gw, {
      ...QUESTION,
      messages: [{ role: "system", content: "Answer briefly." }, QUESTION.messages[0]],
    });
    await ok.body?.cancel();
    assert.equal(ok.headers.get("x-isartor-layer"), "l2");
  } finally {
    await t.close();
  }
});

Deno.test("l2 remote: complex, unsure or unlabelled questions pass to L3 after one token", async () => {
  const t = await setup();
  try {
    for (
      const b of [{ label: "2", probability: 0.99 }, { label: "1", probability: 0.55 }, {
        label: "1",
        probability: 0.99,
        noLogprobs: true,
      }]
    ) {
      Object.assign(t.slm.behaviour, { noLogprobs: false }, b);
      const res = await chat(t.gw, QUESTION);
      assert.equal((await res.json()).choices[0].message.content, "from the cloud");
      assert.equal(res.headers.get("x-isartor-layer"), "l3");
    }
    assert.ok(t.slm.requests.every((r) => r.max_tokens === 1), "no answer was generated");
    assert.deepEqual(decisions(t.gw), { not_simple: 1, low_confidence: 2 });
  } finally {
    await t.close();
  }
});

Deno.test("l2 remote: the quality gate sends refusals, wrong languages, truncation and empty answers to L3", async () => {
  const t = await setup({ layer2: { max_answer_tokens: 8 } });
  try {
    const cases: [Partial<MockSlm["behaviour"]>, Json, string][] = [
      [{ answer: "I'm sorry, I can't help with that." }, QUESTION, "quality_refusal"],
      [{ answer: "" }, QUESTION, "quality_empty"],
      [{ answer: "Paris is", finish: "length" }, QUESTION, "quality_truncated"],
      [
        { answer: "The capital is Moscow." },
        { ...QUESTION, messages: [{ role: "user", content: "Какая столица России?" }] },
        "quality_wrong_language",
      ],
    ];
    for (const [b, body, outcome] of cases) {
      Object.assign(t.slm.behaviour, { finish: "stop" }, b);
      const res = await chat(t.gw, body);
      assert.equal((await res.json()).choices[0].message.content, "from the cloud");
      assert.equal(decisions(t.gw)[outcome], 1, outcome);
    }
    // A limit the client set is the client's: a length stop then is an honest answer.
    Object.assign(t.slm.behaviour, { answer: "Paris is", finish: "length" });
    const res = await chat(t.gw, { ...QUESTION, max_tokens: 2 });
    const body = await res.json();
    assert.equal(res.headers.get("x-isartor-layer"), "l2");
    assert.equal(body.choices[0].finish_reason, "length");
  } finally {
    await t.close();
  }
});

Deno.test("l2 remote: a failing or slow model server passes to L3, counted", async () => {
  const t = await setup({ layer2: { timeout_seconds: 0.2 } });
  try {
    t.slm.behaviour.status = 500;
    let res = await chat(t.gw, QUESTION);
    assert.equal((await res.json()).choices[0].message.content, "from the cloud");
    t.slm.behaviour.status = 200;
    t.slm.behaviour.delayMs = 400;
    res = await chat(t.gw, QUESTION);
    assert.equal((await res.json()).choices[0].message.content, "from the cloud");
    assert.equal(res.headers.get("x-isartor-layer"), "l3");
    assert.deepEqual(decisions(t.gw), { error: 1, timeout: 1 });
  } finally {
    await t.close();
  }
});

Deno.test("l2 remote: an unreachable model server passes to L3", async () => {
  const upstream = await startMockUpstream({ answer: { text: "from the cloud" } });
  const gw = await startGateway(l2Config(upstream.url, {
    router_backend: "remote",
    vllm_url: "http://127.0.0.1:1/v1",
    vllm_model: "m",
  }));
  try {
    const res = await chat(gw, QUESTION);
    assert.equal((await res.json()).choices[0].message.content, "from the cloud");
    assert.deepEqual(decisions(gw), { error: 1 });
  } finally {
    await gw.close();
    await upstream.close();
  }
});

Deno.test("l2 remote: the answer streams in every protocol, piece by piece, usage counted", async () => {
  const t = await setup();
  const text = "The capital of France is Paris.";
  try {
    // OpenAI chat, with the usage chunk asked for.
    let res = await chat(t.gw, {
      ...QUESTION,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(res.headers.get("x-isartor-layer"), "l2");
    let events = await sse(res);
    assert.equal(events.at(-1)?.data, "[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    const pieces = chunks.flatMap((c) => c.choices?.[0]?.delta?.content ?? []);
    assert.ok(pieces.length > 2, `streamed in ${pieces.length} pieces`);
    assert.equal(pieces.join(""), text);
    assert.equal(chunks.at(-1).usage.completion_tokens, 8);
    assert.equal(chunks[0].model, "qwen2.5-0.5b-instruct");

    // Responses.
    res = await chat(t.gw, {
      model: "gpt-4o-mini",
      input: "What is the capital of France?",
      stream: true,
    }, "/v1/responses");
    events = await sse(res);
    assert.equal(events[0].event, "response.created");
    assert.equal(events.at(-1)?.event, "response.completed");
    const deltas = events.filter((e) => e.event === "response.output_text.delta");
    assert.ok(deltas.length > 2);
    assert.equal(deltas.map((e) => JSON.parse(e.data).delta).join(""), text);

    // Anthropic.
    res = await chat(t.gw, {
      model: "claude-haiku-4-5",
      max_tokens: 100,
      stream: true,
      messages: [{ role: "user", content: "What is the capital of France?" }],
    }, "/v1/messages");
    events = await sse(res);
    assert.equal(events[0].event, "message_start");
    assert.equal(events.at(-1)?.event, "message_stop");
    const textDeltas = events.filter((e) => e.event === "content_block_delta");
    assert.ok(textDeltas.length > 2);
    assert.equal(textDeltas.map((e) => JSON.parse(e.data).delta.text).join(""), text);
    const delta = events.find((e) => e.event === "message_delta");
    assert.equal(JSON.parse(delta!.data).delta.stop_reason, "end_turn");

    // Gemini.
    res = await chat(t.gw, {
      contents: [{ role: "user", parts: [{ text: "What is the capital of France?" }] }],
    }, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    assert.equal(res.headers.get("x-isartor-layer"), "l2");
    events = await sse(res);
    const parts = events.map((e) => JSON.parse(e.data)).flatMap((c) =>
      c.candidates?.[0]?.content?.parts?.map((p: { text: string }) => p.text) ?? []
    );
    assert.ok(parts.length > 2);
    assert.equal(parts.join(""), text);
    const last = JSON.parse(events.at(-1)!.data);
    assert.equal(last.candidates[0].finishReason, "STOP");
    assert.equal(last.usageMetadata.promptTokenCount, 12);
    assert.equal(t.upstream.requests.length, 0);
  } finally {
    await t.close();
  }
});

Deno.test("l2 remote: answers are cached only with layer2.cache_answers", async () => {
  for (const cache of [false, true]) {
    const t = await setup({ cache_mode: "exact", layer2: { cache_answers: cache } });
    try {
      const body = { ...QUESTION, temperature: 0 };
      const first = await chat(t.gw, body);
      await first.json();
      assert.equal(first.headers.get("x-isartor-layer"), "l2");
      const second = await chat(t.gw, body);
      await second.json();
      assert.equal(second.headers.get("x-isartor-layer"), cache ? "l1a" : "l2");
    } finally {
      await t.close();
    }
  }
});
