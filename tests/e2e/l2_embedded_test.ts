// L2 with the embedded backend: the real wllama loading and generation code on a
// tiny GGUF this test writes itself (a deterministic "bigram" model, see
// tests/support/tiny_gguf.ts), served through a real gateway in every protocol.
import assert from "node:assert/strict";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startGateway, type TestGateway } from "../support/gateway_harness.ts";
import { writeTinyGguf } from "../support/tiny_gguf.ts";
import { l2Config } from "../support/mock_slm.ts";
import { SseParser } from "../../src/protocol/sse.ts";

/** After the chat template's "assistant\n" the model says "1: Paris." (and "1" is SIMPLE). */
const CHAIN = ["\n", "1", ":", " ", "P", "a", "r", "i", "s", ".", "<|im_end|>"];
const ANSWER = "1: Paris.";

async function waitReady(gw: TestGateway): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const health = await (await fetch(`${gw.url}/health`)).json();
    const l2 = String(health.layers.l2);
    if (!l2.startsWith("loading")) return l2;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the embedded model did not load");
}

function post(gw: TestGateway, path: string, body: Record<string, unknown>) {
  return fetch(`${gw.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function sse(res: Response) {
  const parser = new SseParser();
  return [...parser.push(await res.text()), ...parser.flush()];
}

Deno.test("l2 embedded: a GGUF loads through wllama and answers in every protocol and mode", async () => {
  const dir = await Deno.makeTempDir({ prefix: "isartor-gguf-" });
  const modelPath = `${dir}/tiny.gguf`;
  await Deno.writeFile(modelPath, writeTinyGguf({ chain: CHAIN }));
  const upstream = await startMockUpstream({ answer: { text: "from the cloud" } });
  const gw = await startGateway(l2Config(upstream.url, {
    router_backend: "embedded",
    model_path: modelPath,
  }));
  try {
    assert.match(await waitReady(gw), /^on \(embedded: tiny\)$/);
    const question = "What is the capital of France?";

    // OpenAI chat, JSON then stream.
    let res = await post(gw, "/v1/chat/completions", {
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: question }],
    });
    const json = await res.json();
    assert.equal(res.headers.get("x-isartor-layer"), "l2");
    assert.equal(json.model, "tiny");
    assert.equal(json.choices[0].message.content, ANSWER);
    assert.equal(json.choices[0].finish_reason, "stop");
    assert.ok(json.usage.prompt_tokens > 10);
    assert.equal(json.usage.completion_tokens, ANSWER.length + 1); // and the end-of-turn token

    res = await post(gw, "/v1/chat/completions", {
      model: "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: question }],
    });
    let events = await sse(res);
    const pieces = events.slice(0, -1).flatMap((e) =>
      JSON.parse(e.data).choices?.[0]?.delta?.content ?? []
    );
    // One event per generated token: real streaming, not one burst.
    assert.deepEqual(pieces.filter(Boolean), ANSWER.split(""));
    assert.equal(events.at(-1)?.data, "[DONE]");

    // Anthropic, stream.
    res = await post(gw, "/v1/messages", {
      model: "claude-haiku-4-5",
      max_tokens: 64,
      stream: true,
      messages: [{ role: "user", content: question }],
    });
    events = await sse(res);
    assert.equal(events[0].event, "message_start");
    assert.equal(JSON.parse(events[0].data).message.model, "tiny");
    assert.equal(
      events.filter((e) => e.event === "content_block_delta").map((e) =>
        JSON.parse(e.data).delta.text
      ).join(""),
      ANSWER,
    );
    assert.equal(events.at(-1)?.event, "message_stop");

    // Responses, JSON.
    res = await post(gw, "/v1/responses", { model: "gpt-4o-mini", input: question });
    const resp = await res.json();
    assert.equal(res.headers.get("x-isartor-layer"), "l2");
    assert.equal(resp.output[0].content[0].text, ANSWER);

    // Gemini, JSON.
    res = await post(gw, "/v1beta/models/gemini-2.5-flash:generateContent", {
      contents: [{ role: "user", parts: [{ text: question }] }],
    });
    const gem = await res.json();
    assert.equal(gem.candidates[0].content.parts[0].text, ANSWER);
    assert.equal(gem.candidates[0].finishReason, "STOP");

    // A conversation goes to L3 without a model call.
    res = await post(gw, "/v1/chat/completions", {
      model: "gpt-4o-mini",
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello" },
        { role: "user", content: question },
      ],
    });
    assert.equal((await res.json()).choices[0].message.content, "from the cloud");
    assert.equal(upstream.requests.length, 1);
  } finally {
    await gw.close();
    await upstream.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("l2 embedded: a COMPLEX label, a truncated answer and a missing model pass to L3", async () => {
  const dir = await Deno.makeTempDir({ prefix: "isartor-gguf-" });
  // "2" = COMPLEX; a chain without an end runs into the token limit.
  await Deno.writeFile(`${dir}/complex.gguf`, writeTinyGguf({ chain: ["\n", "2", "<|im_end|>"] }));
  await Deno.writeFile(`${dir}/endless.gguf`, writeTinyGguf({ chain: ["\n", "1", "x"] }));
  const upstream = await startMockUpstream({ answer: { text: "from the cloud" } });
  const base = l2Config(upstream.url, { layer2: { max_answer_tokens: 16 } });
  const body = { model: "m", messages: [{ role: "user", content: "Capital of France?" }] };
  try {
    for (const [file, outcome] of [["complex", "not_simple"], ["endless", "quality_truncated"]]) {
      const gw = await startGateway({ ...base, model_path: `${dir}/${file}.gguf` });
      try {
        await waitReady(gw);
        const res = await post(gw, "/v1/chat/completions", body);
        assert.equal((await res.json()).choices[0].message.content, "from the cloud");
        assert.match(gw.gateway.metrics.render(), new RegExp(`outcome="${outcome}"\\} 1`));
      } finally {
        await gw.close();
      }
    }
    const gw = await startGateway({ ...base, model_path: `${dir}/absent.gguf` });
    try {
      assert.match(await waitReady(gw), /^unavailable: model_path .* does not exist/);
      const res = await post(gw, "/v1/chat/completions", body);
      assert.equal(res.headers.get("x-isartor-layer"), "l3");
      await res.body?.cancel();
      assert.match(gw.gateway.metrics.render(), /outcome="unavailable"\} 1/);
    } finally {
      await gw.close();
    }
  } finally {
    await upstream.close();
    await Deno.remove(dir, { recursive: true });
  }
});
