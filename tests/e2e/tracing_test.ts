/**
 * Traces end to end: `isartor up` with `enable_monitoring` exports spans with
 * Deno's built-in OpenTelemetry to an OTLP/HTTP receiver on 127.0.0.1; span
 * names, parenting and attributes for an L1a hit, an L1b hit and an L3 call
 * with one retry. The client's traceparent is continued and forwarded.
 */

import assert from "node:assert/strict";
import { cliSandbox } from "../support/cli_harness.ts";
import { startMockUpstream } from "../support/mock_upstream.ts";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: Record<string, unknown> }[];
}

/** An OTLP/HTTP JSON receiver: collects every span it is sent. */
function startReceiver() {
  const spans: OtlpSpan[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    if (new URL(req.url).pathname === "/v1/traces") {
      const body = await req.json();
      for (const rs of body.resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      }
    } else await req.body?.cancel();
    return Response.json({});
  });
  return { spans, url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

function attr(span: OtlpSpan, key: string): unknown {
  const v = span.attributes.find((a) => a.key === key)?.value;
  return v ? Object.values(v)[0] : undefined;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

Deno.test("traces: spans per layer for L1a, L1b and a retried L3 call, exported over OTLP/HTTP", async () => {
  const receiver = startReceiver();
  const mock = await startMockUpstream();
  const user = await cliSandbox();
  try {
    const env = {
      ISARTOR__HOST_PORT: "127.0.0.1:0",
      ISARTOR__LLM_PROVIDER: "openai_compatible",
      ISARTOR__EXTERNAL_LLM_URL: `${mock.url}/v1`,
      ISARTOR__EXTERNAL_LLM_API_KEY: "sk-provider-secret",
      ISARTOR__EMBEDDING_BACKEND: "none",
      ISARTOR__CACHE_MODE: "both",
      ISARTOR__L3_RETRY_BASE_MS: "1",
      ISARTOR__ENABLE_MONITORING: "true",
      ISARTOR__OTEL_EXPORTER_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "100",
    };
    const up = await user.run(["up", "--detach", "--json"], { env });
    assert.equal(up.code, 0, up.stderr);
    const { url } = JSON.parse(up.stdout.trim().split("\n").pop()!);
    const ask = (content: string, headers: Record<string, string> = {}) =>
      fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content }] }),
      }).then(async (r) => ({ layer: r.headers.get("x-isartor-layer"), text: await r.text() }));

    mock.enqueue({ kind: "error", status: 503 });
    const clientTrace = "0af7651916cd43dd8448eb211c80319c";
    const l3 = await ask("What is the capital of France?", {
      traceparent: `00-${clientTrace}-b7ad6b7169203331-01`,
    });
    assert.equal(l3.layer, "l3");
    assert.equal((await ask("What is the capital of France?")).layer, "l1a");
    assert.equal((await ask("what is the capital of france")).layer, "l1b");

    await until(
      () => receiver.spans.filter((s) => s.name === "gateway_request").length >= 3,
      "three root spans",
    );
    const roots = receiver.spans.filter((s) => s.name === "gateway_request");
    const byLayer = (l: string) => roots.find((s) => attr(s, "isartor.layer") === l)!;
    const childrenOf = (root: OtlpSpan) =>
      receiver.spans.filter((s) => s.parentSpanId === root.spanId).map((s) => s.name);

    // L3: continues the client's trace; L2.5 ran (a span, whether or not it rewrote);
    // one l3 span per attempt (503, then ok).
    const l3Root = byLayer("l3");
    assert.equal(l3Root.traceId, clientTrace);
    assert.equal(l3Root.parentSpanId, "b7ad6b7169203331");
    assert.deepEqual(childrenOf(l3Root).sort(), [
      "context_optimise",
      "l1a_exact_cache",
      "l1b_semantic_cache",
      "l3_cloud_llm",
      "l3_cloud_llm",
    ]);
    const attempts = receiver.spans.filter((s) =>
      s.name === "l3_cloud_llm" && s.parentSpanId === l3Root.spanId
    );
    assert.deepEqual(attempts.map((s) => attr(s, "isartor.outcome")).sort(), ["503", "ok"]);
    // The provider saw our attempt span as the parent, in the client's trace.
    const sent = mock.requests.at(-1)!.headers["traceparent"];
    assert.match(sent, new RegExp(`^00-${clientTrace}-[0-9a-f]{16}-01$`));
    assert.ok(attempts.some((s) => sent.includes(s.spanId)));
    assert.equal(attr(l3Root, "isartor.provider"), "openai_compatible");
    assert.ok(Number(attr(l3Root, "gen_ai.usage.input_tokens")) > 0);

    // L1a: the exact cache answered; nothing after it ran.
    const l1a = byLayer("l1a");
    assert.deepEqual(childrenOf(l1a), ["l1a_exact_cache"]);
    assert.ok(Number(attr(l1a, "isartor.tokens_saved_in")) > 0);

    // L1b: a paraphrase, with its similarity.
    const l1b = byLayer("l1b");
    assert.deepEqual(childrenOf(l1b).sort(), ["l1a_exact_cache", "l1b_semantic_cache"]);
    assert.ok(Number(attr(l1b, "isartor.similarity")) > 0.5);

    // Never a key or the prompt (otel_capture_content is off).
    const all = JSON.stringify(receiver.spans);
    assert.ok(!all.includes("sk-provider-secret"));
    assert.ok(!all.includes("capital of France"));
    assert.match(String(attr(l1a, "isartor.tenant_hash")), /^[0-9a-f]{8}$/);
    assert.equal(attr(l1a, "isartor.protocol"), "openai_chat");
    assert.equal(attr(l1a, "http.response.status_code"), 200);

    // Monitoring off, the OTEL_* variables still set: nothing is exported, up to the
    // gateway's exit (when Deno's exporter would flush what it holds).
    assert.equal((await user.run(["stop"])).code, 0);
    const before = receiver.spans.length;
    const off = await user.run(["up", "--detach", "--json"], {
      env: { ...env, ISARTOR__ENABLE_MONITORING: "false", OTEL_DENO: "true" },
    });
    assert.equal(off.code, 0, off.stderr);
    const offUrl = JSON.parse(off.stdout.trim().split("\n").pop()!).url;
    const res = await fetch(`${offUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "untraced" }] }),
    });
    assert.equal(res.headers.get("x-isartor-layer"), "l3");
    await res.text();
    assert.equal((await user.run(["stop"])).code, 0);
    assert.equal(receiver.spans.length, before, "no span exported with monitoring off");
  } finally {
    await user.run(["stop"]);
    await user.cleanup();
    await mock.close();
    await receiver.close();
  }
});
