/**
 * Upstream targets: the primary provider and its fallbacks, resolved from config.
 *
 * @module
 */

import type { Config } from "../config/schema.ts";
import type { WireProtocol } from "../protocol/events.ts";
import { CopilotTokens, ProviderAuthError } from "./copilot_token.ts";
import { KeyPool, type PooledKey } from "./key_pool.ts";
import type { ClientCredentialHeader } from "../pipeline/types.ts";
import { normalizeBaseUrl, PROVIDERS, type ProviderSpec } from "./table.ts";

/** One provider the cloud layer can call. */
export interface Target {
  /** Provider name, e.g. "groq". */
  name: string;
  spec: ProviderSpec;
  /** Base URL without a trailing slash. */
  baseUrl: string;
  /** The configured model; "" means "forward the client's". */
  model: string;
  keys: KeyPool;
  azure: { deployment: string; apiVersion: string } | null;
  /** Position in the chain: 0 is the primary provider. */
  position: number;
  /** Auth `copilot`: the exchange of the pooled GitHub tokens for Copilot tokens; else null. */
  tokens: CopilotTokens | null;
  /** Auth `copilot`: the exchange endpoint. */
  tokenUrl: string | null;
}

/** The endpoints a target exposes. */
export type Endpoint = "chat" | "messages" | "count_tokens" | "responses" | "models";

interface TargetInput {
  provider: string;
  url: string;
  model: string;
  apiKey: string;
  providerKeys: PooledKey[];
  strategy: "round_robin" | "priority";
  cooldownSecs: number;
  azureDeployment: string;
  azureApiVersion: string;
  /** `copilot_token_url`: replaces the row's exchange endpoint ("" keeps it). */
  tokenUrl: string;
}

function makeTarget(input: TargetInput, position: number): Target {
  const spec = PROVIDERS[input.provider];
  let baseUrl = normalizeBaseUrl(input.url || spec.baseUrl);
  // Gemini is spoken natively: a URL of its OpenAI-compatible endpoint means its API root.
  if (spec.protocol === "gemini") baseUrl = baseUrl.replace(/\/openai$/, "");
  const keys: PooledKey[] = input.providerKeys.length > 0
    ? input.providerKeys
    : input.apiKey
    ? [{ key: input.apiKey, label: "default", priority: 1 }]
    : [];
  const target: Target = {
    name: spec.name,
    spec,
    baseUrl,
    model: input.model,
    keys: new KeyPool(keys, input.strategy, input.cooldownSecs),
    azure: spec.name === "azure"
      ? { deployment: input.azureDeployment || input.model, apiVersion: input.azureApiVersion }
      : null,
    position,
    tokens: null,
    tokenUrl: spec.auth === "copilot" ? input.tokenUrl || spec.tokenUrl! : null,
  };
  if (target.tokenUrl) {
    const allowed = new Set(hostsOf(target));
    target.tokens = new CopilotTokens({
      tokenUrl: target.tokenUrl,
      headers: spec.headers ?? {},
      // The token's own API base, only on a host the allow-list holds.
      allowBase: (url) => allowed.has(hostPort(url)),
    });
  }
  return target;
}

/** A configuration problem in the provider chain, or null. */
export function targetProblem(config: Config): string | null {
  const chain = [
    { provider: config.llm_provider, url: config.external_llm_url, where: "llm_provider" },
    ...config.fallback_providers.map((f, i) => ({
      provider: f.provider,
      url: f.url,
      where: `fallback_providers.${i}`,
    })),
  ];
  for (const c of chain) {
    const spec = PROVIDERS[c.provider];
    if (!spec.baseUrl && !c.url) {
      const key = c.where === "llm_provider" ? "external_llm_url" : `${c.where}.url`;
      return `config error: ${key} is empty but provider "${c.provider}" has no default URL; fix: set ${key} to the server's base URL`;
    }
    const url = c.url || spec.baseUrl;
    try {
      const u = new URL(normalizeBaseUrl(url));
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("scheme");
    } catch {
      const key = c.where === "llm_provider" ? "external_llm_url" : `${c.where}.url`;
      return `config error: ${key} = ${
        JSON.stringify(url)
      } is not an http(s) URL; fix: write it like "https://api.example.com/v1"`;
    }
  }
  if (config.copilot_token_url) {
    let ok = false;
    try {
      ok = /^https?:$/.test(new URL(config.copilot_token_url).protocol);
    } catch { /* not a URL */ }
    if (!ok) {
      return `config error: copilot_token_url = ${
        JSON.stringify(config.copilot_token_url)
      } is not an http(s) URL; fix: remove it (GitHub's endpoint is the default) or write a full URL`;
    }
  }
  return null;
}

/** The ordered provider chain: primary first, then `fallback_providers`. */
export function buildTargets(config: Config): Target[] {
  const primary = makeTarget({
    provider: config.llm_provider,
    url: config.external_llm_url,
    model: config.external_llm_model,
    apiKey: config.external_llm_api_key,
    providerKeys: config.provider_keys,
    strategy: config.key_rotation_strategy,
    cooldownSecs: config.key_cooldown_secs,
    azureDeployment: config.azure_deployment_id,
    azureApiVersion: config.azure_api_version,
    tokenUrl: config.copilot_token_url,
  }, 0);
  const fallbacks = config.fallback_providers.map((f, i) =>
    makeTarget({
      provider: f.provider,
      url: f.url,
      model: f.model,
      apiKey: f.api_key,
      providerKeys: f.provider_keys,
      strategy: f.key_rotation_strategy,
      cooldownSecs: f.key_cooldown_secs,
      azureDeployment: f.azure_deployment_id,
      azureApiVersion: f.azure_api_version,
      tokenUrl: config.copilot_token_url,
    }, i + 1)
  );
  return [primary, ...fallbacks];
}

/** The protocol a target is spoken to for a client protocol. */
export function upstreamProtocol(target: Target, client: WireProtocol): WireProtocol {
  if (client === "openai_responses" && target.spec.responses) return "openai_responses";
  return target.spec.protocol;
}

/** The URL of one endpoint of a target. */
export function endpointUrl(target: Target, endpoint: Endpoint): string {
  if (target.azure) {
    const version = `?api-version=${encodeURIComponent(target.azure.apiVersion)}`;
    const resource = target.baseUrl.replace(/\/openai(\/deployments\/[^/]+)?$/, "");
    // Azure lists models per resource; chat goes to a deployment.
    if (endpoint === "models") return `${resource}/openai/models${version}`;
    const base = target.baseUrl.includes("/openai/deployments/")
      ? target.baseUrl
      : `${resource}/openai/deployments/${encodeURIComponent(target.azure.deployment)}`;
    return `${base}/chat/completions${version}`;
  }
  const path = {
    chat: "/chat/completions",
    messages: "/messages",
    count_tokens: "/messages/count_tokens",
    responses: "/responses",
    models: "/models",
  }[endpoint];
  return `${target.baseUrl}${path}`;
}

/**
 * The URL a request goes to: the protocol's endpoint; for Gemini, the model's
 * `generateContent` or `streamGenerateContent?alt=sse`. A provider of the
 * client's own protocol also gets the client's query (`?beta=true`).
 */
export function upstreamUrl(
  target: Target,
  proto: WireProtocol,
  model: string,
  stream: boolean,
  query: string,
): string {
  const url = proto === "gemini"
    ? `${target.baseUrl}/models/${model}:${
      stream ? "streamGenerateContent?alt=sse" : "generateContent"
    }`
    : endpointUrl(target, ENDPOINT_FOR[proto]);
  if (!query) return url;
  return url + (url.includes("?") ? "&" : "?") + query;
}

const ENDPOINT_FOR: Record<Exclude<WireProtocol, "gemini">, Endpoint> = {
  openai_chat: "chat",
  anthropic: "messages",
  openai_responses: "responses",
};

/**
 * The auth headers for one attempt: the pooled key in the provider's style, or,
 * when the pool is empty, the client's own credential (pass-through auth).
 */
export function authHeaders(
  target: Target,
  key: string | null,
  clientCredential: { header: ClientCredentialHeader; value: string } | null,
): Record<string, string> {
  if (key === null) {
    // A local server wants no key: never hand it the client's credential.
    if (!clientCredential || target.spec.auth === "none" || target.spec.auth === "copilot") {
      return {};
    }
    // Forward the credential in the style the provider expects.
    const raw = clientCredential.header === "authorization"
      ? clientCredential.value.replace(/^Bearer\s+/i, "")
      : clientCredential.value;
    if (target.spec.auth === "x-api-key") {
      // Claude Code's own login sends an OAuth bearer token: keep it a bearer.
      return clientCredential.header === "authorization"
        ? { authorization: clientCredential.value }
        : { "x-api-key": raw };
    }
    if (target.spec.auth === "api-key") return { "api-key": raw };
    if (target.spec.auth === "x-goog-api-key") return { "x-goog-api-key": raw };
    return { authorization: `Bearer ${raw}` };
  }
  switch (target.spec.auth) {
    case "bearer":
      return { authorization: `Bearer ${key}` };
    case "x-api-key":
      return { "x-api-key": key };
    case "api-key":
      return { "api-key": key };
    case "x-goog-api-key":
      return { "x-goog-api-key": key };
    case "none":
    case "copilot": // the GitHub token never goes to Copilot's API: see upstreamAuth
      return {};
  }
}

/** `host:port` of a URL, the port spelled out. */
function hostPort(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
}

/** The hosts one target may reach: its base URL's, its exchange endpoint's, the row's extra hosts. */
function hostsOf(t: Target): string[] {
  const hosts = [hostPort(t.baseUrl)];
  if (t.tokenUrl) hosts.push(hostPort(t.tokenUrl), ...(t.spec.hosts ?? []).map((h) => `${h}:443`));
  return hosts;
}

/** The `host:port` of every target, for the network allow-list. */
export function targetHosts(targets: Target[]): string[] {
  return [...new Set(targets.flatMap(hostsOf))];
}

/** The auth of one upstream call: headers, and the base URL to call. */
export interface UpstreamAuth {
  headers: Record<string, string>;
  baseUrl: string;
  /** The exchanged token used (auth `copilot`), to invalidate after a 401. */
  token?: string;
}

/**
 * The auth for one call: {@linkcode authHeaders} and the target's base URL,
 * or, for auth `copilot`, the pooled GitHub token's exchanged Copilot token
 * and the API base it names, with the row's identification headers.
 * Throws a {@linkcode ProviderAuthError} when no token can be had.
 */
export async function upstreamAuth(
  target: Target,
  key: string | null,
  clientCredential: { header: ClientCredentialHeader; value: string } | null,
): Promise<UpstreamAuth> {
  if (!target.tokens) {
    return { headers: authHeaders(target, key, clientCredential), baseUrl: target.baseUrl };
  }
  if (key === null) {
    // The client's credential is a gateway key, never a GitHub token.
    throw new ProviderAuthError(
      "refused",
      `the ${target.name} provider has no GitHub token stored; fix: isartor set-key -p ${target.name} --device (or isartor connect claude-copilot)`,
    );
  }
  const s = await target.tokens.session(key);
  return {
    headers: { ...target.spec.headers, authorization: `Bearer ${s.token}` },
    baseUrl: s.apiBase ?? target.baseUrl,
    token: s.token,
  };
}
