import assert from "node:assert/strict";
import { parseConfig } from "../../../src/config/load.ts";
import { normalizeBaseUrl, PROVIDER_NAMES, PROVIDERS } from "../../../src/providers/table.ts";
import {
  authHeaders,
  buildTargets,
  endpointUrl,
  type Target,
  targetHosts,
  targetProblem,
  upstreamProtocol,
} from "../../../src/providers/targets.ts";

/** The provider chain of a config given as raw values. */
const targets = (raw: Record<string, unknown>): Target[] => buildTargets(parseConfig(raw));
const primary = (raw: Record<string, unknown>): Target => targets(raw)[0];

Deno.test("table: every provider has a name, an auth style, a protocol and a usable base URL", () => {
  assert.equal(PROVIDER_NAMES.length, Object.keys(PROVIDERS).length);
  for (const [name, spec] of Object.entries(PROVIDERS)) {
    assert.equal(spec.name, name);
    assert.ok(
      ["bearer", "x-api-key", "api-key", "x-goog-api-key", "none", "copilot"].includes(spec.auth),
      name,
    );
    // An exchanged key needs the endpoint it is exchanged at.
    assert.equal(spec.auth === "copilot", !!spec.tokenUrl, name);
    assert.ok(["openai_chat", "anthropic", "gemini"].includes(spec.protocol), name);
    if (spec.baseUrl) {
      assert.match(spec.baseUrl, /^https?:\/\/[^/]+(\/.*)?[^/]$/, `${name}: no trailing slash`);
    } else {
      assert.ok(["azure", "openai_compatible"].includes(name), `${name} needs a base URL`);
    }
  }
});

Deno.test("normalizeBaseUrl: a full endpoint URL is cut back to the base", () => {
  const cases: [string, string][] = [
    ["https://api.groq.com/openai/v1/chat/completions", "https://api.groq.com/openai/v1"],
    ["https://api.anthropic.com/v1/messages", "https://api.anthropic.com/v1"],
    ["https://api.openai.com/v1/responses", "https://api.openai.com/v1"],
    ["http://127.0.0.1:8000/v1/completions", "http://127.0.0.1:8000/v1"],
    ["https://api.mistral.ai/v1/models", "https://api.mistral.ai/v1"],
    ["https://api.openai.com/v1/", "https://api.openai.com/v1"],
    ["  http://127.0.0.1:11434/v1//  ", "http://127.0.0.1:11434/v1"],
    ["https://api.openai.com/v1", "https://api.openai.com/v1"],
  ];
  for (const [input, want] of cases) assert.equal(normalizeBaseUrl(input), want, input);
});

Deno.test("buildTargets: the primary first, then the fallbacks in order", () => {
  const chain = targets({
    llm_provider: "anthropic",
    external_llm_model: "claude-sonnet-4-5",
    fallback_providers: [
      { provider: "groq", model: "llama-3.3-70b-versatile" },
      { provider: "ollama" },
    ],
  });
  assert.deepEqual(chain.map((t) => [t.name, t.position, t.model]), [
    ["anthropic", 0, "claude-sonnet-4-5"],
    ["groq", 1, "llama-3.3-70b-versatile"],
    ["ollama", 2, ""],
  ]);
  assert.equal(chain[0].baseUrl, "https://api.anthropic.com/v1");
  assert.equal(chain[2].baseUrl, "http://127.0.0.1:11434/v1");
});

Deno.test("buildTargets: a key pool wins over the single key; no key means an empty pool", () => {
  assert.equal(primary({ external_llm_api_key: "sk-one" }).keys.order()[0].key, "sk-one");
  const pooled = primary({
    external_llm_api_key: "sk-ignored",
    provider_keys: [{ key: "sk-a" }, { key: "sk-b" }],
  });
  assert.deepEqual(pooled.keys.order().map((k) => k.key), ["sk-a", "sk-b"]);
  assert.equal(primary({}).keys.size, 0);
  const fallback = targets({ fallback_providers: [{ provider: "groq", api_key: "gsk-1" }] })[1];
  assert.equal(fallback.keys.order()[0].key, "gsk-1");
});

Deno.test("endpointUrl: the endpoint paths are appended to the base URL", () => {
  const openai = primary({});
  assert.equal(endpointUrl(openai, "chat"), "https://api.openai.com/v1/chat/completions");
  assert.equal(endpointUrl(openai, "responses"), "https://api.openai.com/v1/responses");
  assert.equal(endpointUrl(openai, "models"), "https://api.openai.com/v1/models");
  const anthropic = primary({ llm_provider: "anthropic" });
  assert.equal(endpointUrl(anthropic, "messages"), "https://api.anthropic.com/v1/messages");
  assert.equal(
    endpointUrl(anthropic, "count_tokens"),
    "https://api.anthropic.com/v1/messages/count_tokens",
  );
  const groq = primary({
    llm_provider: "groq",
    external_llm_url: "https://api.groq.com/openai/v1/chat/completions",
  });
  assert.equal(endpointUrl(groq, "chat"), "https://api.groq.com/openai/v1/chat/completions");
});

Deno.test("endpointUrl: azure puts the deployment in the path and the api-version in the query", () => {
  const azure = primary({
    llm_provider: "azure",
    external_llm_url: "https://my-res.openai.azure.com/",
    azure_deployment_id: "gpt-4o prod",
    external_llm_model: "gpt-4o",
  });
  assert.equal(
    endpointUrl(azure, "chat"),
    "https://my-res.openai.azure.com/openai/deployments/gpt-4o%20prod/chat/completions?api-version=2024-10-21",
  );
  // Every chat protocol goes to chat completions on Azure.
  assert.equal(endpointUrl(azure, "messages"), endpointUrl(azure, "chat"));
  assert.equal(
    endpointUrl(azure, "models"),
    "https://my-res.openai.azure.com/openai/models?api-version=2024-10-21",
    "Azure lists models per resource",
  );
  // A URL pasted from the portal, query and all, gives the same endpoints.
  const pasted = primary({
    llm_provider: "azure",
    external_llm_url:
      "https://my-res.openai.azure.com/openai/deployments/gpt-4o%20prod/chat/completions?api-version=2024-02-01",
  });
  assert.equal(endpointUrl(pasted, "chat"), endpointUrl(azure, "chat"));
});

Deno.test("endpointUrl: azure without a deployment uses the model; a deployment URL is kept", () => {
  const byModel = primary({
    llm_provider: "azure",
    external_llm_url: "https://r.openai.azure.com",
    external_llm_model: "gpt-4o-mini",
    azure_api_version: "2025-01-01-preview",
  });
  assert.equal(
    endpointUrl(byModel, "chat"),
    "https://r.openai.azure.com/openai/deployments/gpt-4o-mini/chat/completions?api-version=2025-01-01-preview",
  );
  const byUrl = primary({
    llm_provider: "azure",
    external_llm_url: "https://r.openai.azure.com/openai/deployments/mine/chat/completions",
    azure_deployment_id: "ignored",
  });
  assert.equal(
    endpointUrl(byUrl, "chat"),
    "https://r.openai.azure.com/openai/deployments/mine/chat/completions?api-version=2024-10-21",
  );
  const fallback = targets({
    fallback_providers: [{
      provider: "azure",
      url: "https://f.openai.azure.com",
      azure_deployment_id: "backup",
      azure_api_version: "2024-06-01",
    }],
  })[1];
  assert.equal(
    endpointUrl(fallback, "chat"),
    "https://f.openai.azure.com/openai/deployments/backup/chat/completions?api-version=2024-06-01",
  );
});

Deno.test("upstreamProtocol: Responses only where the provider serves it, else the provider's protocol", () => {
  const openai = primary({});
  const groq = primary({ llm_provider: "groq" });
  const anthropic = primary({ llm_provider: "anthropic" });
  assert.equal(upstreamProtocol(openai, "openai_responses"), "openai_responses");
  assert.equal(upstreamProtocol(groq, "openai_responses"), "openai_chat");
  assert.equal(upstreamProtocol(anthropic, "openai_responses"), "anthropic");
  assert.equal(upstreamProtocol(anthropic, "openai_chat"), "anthropic");
  assert.equal(upstreamProtocol(openai, "anthropic"), "openai_chat");
});

Deno.test("authHeaders: a configured key in each provider's style", () => {
  assert.deepEqual(authHeaders(primary({}), "sk-1", null), { authorization: "Bearer sk-1" });
  assert.deepEqual(authHeaders(primary({ llm_provider: "anthropic" }), "sk-ant", null), {
    "x-api-key": "sk-ant",
  });
  const azure = primary({ llm_provider: "azure", external_llm_url: "https://r.openai.azure.com" });
  assert.deepEqual(authHeaders(azure, "az-key", null), { "api-key": "az-key" });
  assert.deepEqual(authHeaders(primary({ llm_provider: "ollama" }), "unused", null), {});
});

Deno.test("authHeaders: a configured key wins over the client's credential", () => {
  const client = { header: "authorization" as const, value: "Bearer client-key" };
  assert.deepEqual(authHeaders(primary({}), "sk-gateway", client), {
    authorization: "Bearer sk-gateway",
  });
});

Deno.test("authHeaders: pass-through re-sends the client's credential in the provider's style", () => {
  const bearer = { header: "authorization" as const, value: "Bearer sk-user" };
  const xKey = { header: "x-api-key" as const, value: "sk-user" };
  const openai = primary({});
  const anthropic = primary({ llm_provider: "anthropic" });
  const azure = primary({ llm_provider: "azure", external_llm_url: "https://r.openai.azure.com" });

  assert.deepEqual(authHeaders(openai, null, bearer), { authorization: "Bearer sk-user" });
  assert.deepEqual(authHeaders(openai, null, xKey), { authorization: "Bearer sk-user" });
  assert.deepEqual(
    authHeaders(openai, null, { header: "authorization", value: "bearer sk-user" }),
    {
      authorization: "Bearer sk-user",
    },
  );
  // Anthropic: an x-api-key stays one; a bearer token (Claude Code's login) stays a bearer token.
  assert.deepEqual(authHeaders(anthropic, null, xKey), { "x-api-key": "sk-user" });
  assert.deepEqual(
    authHeaders(anthropic, null, { header: "authorization", value: "Bearer oat-1" }),
    {
      authorization: "Bearer oat-1",
    },
  );
  assert.deepEqual(authHeaders(azure, null, bearer), { "api-key": "sk-user" });
  // No key and no client credential: nothing is sent.
  assert.deepEqual(authHeaders(openai, null, null), {});
});

Deno.test("targetHosts: host:port of every provider of the chain, once each", () => {
  const chain = targets({
    llm_provider: "anthropic",
    fallback_providers: [
      { provider: "groq" },
      { provider: "ollama" },
      { provider: "openai_compatible", url: "http://10.0.0.5:8000/v1" },
      { provider: "anthropic", api_key: "second-account" },
    ],
  });
  assert.deepEqual(targetHosts(chain), [
    "api.anthropic.com:443",
    "api.groq.com:443",
    "127.0.0.1:11434",
    "10.0.0.5:8000",
  ]);
  assert.deepEqual(targetHosts(targets({ external_llm_url: "http://[::1]:9000/v1" })), [
    "[::1]:9000",
  ]);
});

Deno.test("targetProblem: a working chain has no problem", () => {
  assert.equal(targetProblem(parseConfig({})), null);
  assert.equal(
    targetProblem(parseConfig({
      llm_provider: "openai_compatible",
      external_llm_url: "http://127.0.0.1:8000/v1",
      fallback_providers: [{ provider: "azure", url: "https://r.openai.azure.com" }],
    })),
    null,
  );
});

Deno.test("targetProblem: openai_compatible or azure without a URL names the key to set", () => {
  assert.equal(
    targetProblem(parseConfig({ llm_provider: "openai_compatible" })),
    'config error: external_llm_url is empty but provider "openai_compatible" has no default URL; fix: set external_llm_url to the server\'s base URL',
  );
  assert.match(
    targetProblem(parseConfig({ llm_provider: "azure" }))!,
    /^config error: external_llm_url is empty but provider "azure" has no default URL; fix: /,
  );
  assert.match(
    targetProblem(parseConfig({
      fallback_providers: [{ provider: "groq" }, { provider: "openai_compatible" }],
    }))!,
    /^config error: fallback_providers\.1\.url is empty but provider "openai_compatible" has no default URL; fix: set fallback_providers\.1\.url /,
  );
});

Deno.test("targetProblem: a URL that is not http(s) is refused", () => {
  assert.equal(
    targetProblem(parseConfig({ external_llm_url: "ftp://example.com/v1" })),
    'config error: external_llm_url = "ftp://example.com/v1" is not an http(s) URL; fix: write it like "https://api.example.com/v1"',
  );
  assert.match(
    targetProblem(parseConfig({ external_llm_url: "api.example.com/v1" }))!,
    /^config error: external_llm_url = "api\.example\.com\/v1" is not an http\(s\) URL; fix: /,
  );
  assert.match(
    targetProblem(
      parseConfig({ fallback_providers: [{ provider: "ollama", url: "localhost:11434" }] }),
    )!,
    /^config error: fallback_providers\.0\.url = "localhost:11434" is not an http\(s\) URL; fix: /,
  );
});
