/**
 * The `isartor.toml` scaffold, generated from the config schema's defaults so
 * it always covers every key. Each key gets a one-line meaning from
 * {@linkcode KEY_COMMENTS}. Settings are written commented out (`# key = value`)
 * except {@linkcode ESSENTIALS}; descriptions always start with a capital
 * letter or a symbol, so {@linkcode uncommentScaffold} can tell them apart.
 *
 * @module
 */

import { stringify } from "smol-toml";
import { ConfigSchema, FallbackProviderSchema } from "../src/config/schema.ts";

/** A one-line meaning for every configuration key. */
export const KEY_COMMENTS: Readonly<Record<string, string>> = {
  host_port: "Address the gateway listens on (HOST:PORT); non-loopback needs gateway_api_key",
  gateway_api_key: "Key clients must send (Bearer or x-api-key); required to bind beyond loopback",
  tenant_header:
    "Request header naming the tenant; honoured only from trusted-proxy keys (or the single gateway key)",
  allowed_origins:
    "Web pages (origins) allowed to call the gateway; none by default (the dashboard is)",
  allowed_hosts:
    "Extra Host names accepted besides loopback and the bind address (DNS rebinding guard)",
  gateway_keys: "Per-tenant keys (stored hashed): manage them with `isartor keys add|list|revoke`",
  admin_api_key: "Key that sees every tenant's stats and cache (admin API); empty: none",
  request_read_timeout_secs: "Seconds a client may take to send its request body before 408",
  data_dir: "Where isartor keeps its data and stored credentials (0700)",
  max_request_body_bytes: "Largest request body accepted, in bytes",
  llm_provider: "Primary cloud provider (normally stored by `isartor set-key`)",
  external_llm_url:
    "Provider base URL; empty: the provider's default (needed for openai_compatible, azure)",
  external_llm_model: "Model sent upstream; empty: the client's own model is forwarded",
  external_llm_api_key: "Provider API key; prefer `isartor set-key` (keeps it out of this file)",
  azure_deployment_id: "Azure OpenAI deployment name (defaults to the model)",
  azure_api_version: "Azure OpenAI api-version query parameter",
  provider_keys: "A key pool for the primary provider (overrides external_llm_api_key)",
  key_rotation_strategy: 'How the key pool is used: "round_robin" or "priority" (lowest first)',
  key_cooldown_secs: "Seconds a key rests after a 429 or an auth failure",
  fallback_providers: "Providers tried in order when the primary fails",
  model_aliases: "Model names clients may use, mapped to real model names",
  copilot_token_url:
    "The copilot provider's token exchange; \"\" is GitHub's (set for GitHub Enterprise)",
  copilot_github_url: 'GitHub for `set-key -p copilot --device`; "" is https://github.com',
  l3_timeout_secs: "Seconds to wait for a provider before giving up",
  l3_max_retries: "Retries of a failed provider call (429, 5xx, network), 0 to 10",
  l3_retry_base_ms: "First retry delay in ms (doubles each time, with jitter)",
  l3_retry_max_ms: "Longest retry delay in ms",
  anthropic_default_max_tokens: "The max_tokens sent to Anthropic when the client set none",
  offline_mode: "Refuse every cloud call (air-gapped: only local providers and caches answer)",
  l3_http_client:
    'How cloud calls are sent: "pooled" (HTTP/1.1 keep-alive), "fetch" (honours HTTPS_PROXY), "auto"',
  cache_mode: 'Which caches answer: "exact", "semantic", "both" or "off"',
  cache_backend:
    'Where the caches live: "kv" (on disk in data_dir), "memory", or "redis" (shared by replicas)',
  cache_ttl_secs: "Seconds a cached answer stays valid",
  cache_max_capacity: "Most answers kept in the cache",
  cache_max_bytes: "Most bytes the cache may hold",
  cache_sampled_requests: "Also cache answers to sampled requests (temperature > 0)",
  redis_url:
    "The Redis of cache_backend redis: redis://[user:password@]host:port[/db], rediss:// for TLS",
  redis_db: "The Redis database number when redis_url names none",
  redis_cluster_nodes:
    'Redis Cluster seed nodes, e.g. ["redis://10.0.0.1:7000"] (then redis_url is not used)',
  redis_key_prefix: "First part of every Redis key (several deployments can share one Redis)",
  redis_command_timeout_ms:
    "Longest a Redis command may take before memory and upstream serve instead",
  redis_lock_ttl_secs: "Expiry of the cross-replica single-flight lock, in seconds",
  similarity_threshold:
    'Similarity a semantic (L1b) match needs: "auto" (per embedder) or a number up to 1',
  semantic_max_entries_per_partition:
    "Most questions the semantic cache keeps per conversation prefix",
  embedding_backend:
    'Embedder of the semantic cache: "minilm" (in-process), "remote" (a server) or "none"',
  embedding_sidecar:
    "The embedding server of backend remote: TEI or OpenAI-compatible URL, model, timeout",
  models_dir: 'Where `isartor models pull` keeps model files; "" means <data_dir>/models',
  embedding_threads: "WASM threads of the in-process embedder; 0: one per core, at most 4",
  enable_slm_router:
    "Let a small model (L2) answer simple single questions; off: a 0.5B model is often wrong",
  router_backend: 'Where L2\'s model runs: "embedded" (wllama in process), "vllm" or "remote"',
  vllm_url: 'L2 model server base URL (OpenAI-compatible), e.g. "http://127.0.0.1:8000/v1"',
  vllm_model: "The model name the L2 server expects",
  model_path: 'A GGUF file for the embedded L2 model; "" means `isartor models pull` default',
  layer2: "L2 limits: timeout, answer tokens, classifier mode, caching, confidence, queue",
  provider_prices:
    "USD per million tokens per provider, for the estimated savings in `isartor stats`",
  log_requests: "Append one line per request (no prompts, no keys) to <data_dir>/requests.jsonl",
  enable_request_logs:
    "Debugging only: log request/response bodies (keys redacted, capped, rotated, 0600)",
  request_log_path: 'Folder of the body log; "" means <data_dir>/request_logs',
  enable_monitoring: "Export OpenTelemetry traces (OTLP over HTTP); OTEL_* variables apply",
  otel_exporter_endpoint: 'The collector\'s OTLP/HTTP URL, e.g. "http://127.0.0.1:4318"',
  otel_capture_content: "Put the last user turn into traces (off: no prompt text in spans)",
  mcp_session_idle_secs: "Seconds an MCP session at /mcp may stay idle before it expires",
  enable_context_optimizer:
    "L2.5: a smaller prompt to the cloud (deterministic; x-isartor-optimize: off skips it)",
  context_optimizer_minify:
    "L2.5: drop comments, rule lines, trailing whitespace, blank runs in instructions",
  context_optimizer_dedup:
    "L2.5: keep a repeated instruction block once; fold identical tool-result lines",
};

/** Section titles, shown before the first key of each section. */
const SECTIONS: Readonly<Record<string, string>> = {
  host_port: "Gateway",
  llm_provider: "Provider: `isartor set-key` stores these in <data_dir>/credentials; " +
    "set them here to override",
  l3_timeout_secs: "Cloud calls (L3)",
  cache_mode: "Caches (L1a exact, L1b semantic)",
  enable_slm_router: "L2 small-model router (off by default)",
  log_requests: "Telemetry",
  mcp_session_idle_secs: "MCP server (/mcp and `isartor mcp`)",
  enable_context_optimizer: "Context optimiser (L2.5)",
};

/** Keys written live (uncommented): safe, and the ones people change first. */
export const ESSENTIALS: readonly string[] = ["host_port", "offline_mode"];

/** Example values for keys whose default is empty, so the scaffold shows their shape. */
const EXAMPLES: Readonly<Record<string, unknown>> = {
  model_aliases: { fast: "gpt-4o-mini", smart: "gpt-4o" },
  provider_prices: {
    openai: { input_per_mtok: 0.15, output_per_mtok: 0.6, cached_input_per_mtok: 0.075 },
  },
  provider_keys: [
    { key: "sk-first", label: "main", priority: 1 },
    { key: "sk-second", label: "backup", priority: 2 },
  ],
  fallback_providers: [
    FallbackProviderSchema.parse({ provider: "groq", model: "llama-3.3-70b-versatile" }),
  ],
};

function isTableValue(v: unknown): boolean {
  if (Array.isArray(v)) {
    return v.length > 0 && v.every((x) => typeof x === "object" && x !== null && !Array.isArray(x));
  }
  return typeof v === "object" && v !== null;
}

function describe(text: string): string {
  return `# ${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

/** The keys of the schema, in schema order. */
export function schemaKeys(): string[] {
  return Object.keys(ConfigSchema.shape);
}

/**
 * The scaffold text: every key of the schema, with its meaning and default.
 *
 * @example
 * ```ts
 * const text = scaffoldToml();
 * text.includes("# l3_timeout_secs = 120"); // true
 * ```
 */
export function scaffoldToml(): string {
  const defaults = ConfigSchema.parse({}) as Record<string, unknown>;
  const head = [
    "# Isartor configuration (written by `isartor init`).",
    "# Every key is listed with its default; remove the leading `# ` of a setting to change it.",
    "# Precedence: defaults < stored credentials (`isartor set-key`) < this file < ISARTOR__KEY env.",
    "# Reference: docs/configuration.md",
  ];
  const scalars: string[] = [];
  const tables: string[] = [];
  for (const key of schemaKeys()) {
    const value = key in EXAMPLES ? EXAMPLES[key] : defaults[key];
    const comment = describe(
      KEY_COMMENTS[key] ?? "(no description yet; see docs/configuration.md)",
    );
    const live = ESSENTIALS.includes(key);
    const body = stringify({ [key]: value }).trim().split("\n")
      .map((l) => (live || l === "" ? l : `# ${l}`));
    if (SECTIONS[key]) scalars.push("", describe(`---- ${SECTIONS[key]} ----`));
    if (isTableValue(value)) {
      tables.push("", comment, ...(key in EXAMPLES ? [describe("Example:")] : []), ...body);
    } else {
      scalars.push(comment, ...body);
    }
  }
  return [...head, ...scalars, "", describe("---- Tables ----"), ...tables, ""].join("\n");
}

/**
 * Removes the leading `# ` of every setting line of a scaffold (a line whose
 * text after `# ` starts with a lower-case key, a quote or `[`), leaving the
 * descriptions commented: what a user gets by enabling everything.
 */
export function uncommentScaffold(text: string): string {
  return text.split("\n").map((l) => l.replace(/^# (?=[a-z0-9_"\[])/, "")).join("\n");
}
