import assert from "node:assert/strict";
import { parseConfig } from "../../../src/config/load.ts";
import { prepareUpstreamBody, resolveModel } from "../../../src/layers/cloud_body.ts";
import type { ChatRequest } from "../../../src/pipeline/types.ts";
import type { WireProtocol } from "../../../src/protocol/events.ts";
import { authHeaders, buildTargets } from "../../../src/providers/targets.ts";

function request(protocol: WireProtocol, body: Record<string, unknown>): ChatRequest {
  const raw = new TextEncoder().encode(JSON.stringify(body));
  return {
    protocol,
    body,
    raw,
    model: String(body.model),
    stream: false,
    headers: new Headers(),
    signal: new AbortController().signal,
  };
}

const OPENAI_REQ = request("openai_chat", {
  model: "gpt-5",
  messages: [{ role: "user", content: "hi" }],
});
const ANTHROPIC_REQ = request("anthropic", {
  model: "claude-sonnet-4-5",
  max_tokens: 10,
  messages: [{ role: "user", content: "hi" }],
});

Deno.test("model: the client's model reaches providers that serve client model names", () => {
  const [openai] = buildTargets(
    parseConfig({ llm_provider: "openai", external_llm_model: "gpt-4o-mini" }),
  );
  assert.equal(resolveModel(OPENAI_REQ, openai, "openai_chat", {}), "gpt-5");
  // Untouched model: the body goes up byte for byte.
  assert.equal(
    prepareUpstreamBody(OPENAI_REQ, openai, "openai_chat", {
      anthropicDefaultMaxTokens: 1,
      modelAliases: {},
    }),
    OPENAI_REQ.raw,
  );
});

Deno.test("model: a provider with its own model names gets the configured model", () => {
  const [groq] = buildTargets(
    parseConfig({ llm_provider: "groq", external_llm_model: "llama-3.3-70b-versatile" }),
  );
  assert.equal(resolveModel(OPENAI_REQ, groq, "openai_chat", {}), "llama-3.3-70b-versatile");
  assert.equal(resolveModel(ANTHROPIC_REQ, groq, "openai_chat", {}), "llama-3.3-70b-versatile");
  // Without a configured model, the client's is forwarded as it is.
  const [bare] = buildTargets(parseConfig({ llm_provider: "groq" }));
  assert.equal(resolveModel(OPENAI_REQ, bare, "openai_chat", {}), "gpt-5");
  // Another protocol: the provider's default, never an Anthropic name.
  assert.equal(resolveModel(ANTHROPIC_REQ, bare, "openai_chat", {}), "llama-3.3-70b-versatile");
});

Deno.test("model: aliases apply on the primary only; fallbacks serve their own model", () => {
  const [primary, fallback] = buildTargets(parseConfig({
    llm_provider: "anthropic",
    fallback_providers: [{ provider: "groq", model: "llama-3.1-8b-instant" }],
  }));
  const aliases = { fast: "claude-haiku-4-5" };
  const req = request("anthropic", { ...ANTHROPIC_REQ.body, model: "fast" });
  assert.equal(resolveModel(req, primary, "anthropic", aliases), "claude-haiku-4-5");
  assert.equal(resolveModel(req, fallback, "openai_chat", aliases), "llama-3.1-8b-instant");
  // openai_compatible without any model configured keeps the client's model, never "".
  const [compat] = buildTargets(
    parseConfig({ llm_provider: "openai_compatible", external_llm_url: "http://127.0.0.1:1/v1" }),
  );
  assert.equal(resolveModel(ANTHROPIC_REQ, compat, "openai_chat", {}), "claude-sonnet-4-5");
});

Deno.test("auth: local providers never receive the client's credential", () => {
  const [ollama] = buildTargets(parseConfig({ llm_provider: "ollama" }));
  assert.deepEqual(
    authHeaders(ollama, null, { header: "authorization", value: "Bearer sk-secret" }),
    {},
  );
});
