/**
 * The configuration schema: every key, its type and its default.
 *
 * Key names follow the seed project (isartor-ai/Isartor) where it has them, so
 * its users' `isartor.toml` files keep working. docs/configuration.md lists the
 * same keys; a test keeps the two in step.
 *
 * @module
 */

import { z } from "zod";
import { PROVIDER_NAMES } from "../providers/table.ts";

const providerName = z.string().refine((v) => PROVIDER_NAMES.includes(v), {
  message: `must be one of: ${PROVIDER_NAMES.join(", ")}`,
});

const rotation = z.enum(["round_robin", "priority"]);

/** One key of a key pool. */
export const ProviderKeySchema = z.object({
  key: z.string().min(1),
  priority: z.number().int().min(0).default(1),
  label: z.string().default(""),
});

/** One entry of `fallback_providers`, tried in order after the primary provider fails. */
export const FallbackProviderSchema = z.object({
  provider: providerName,
  model: z.string().default(""),
  api_key: z.string().default(""),
  provider_keys: z.array(ProviderKeySchema).default([]),
  key_rotation_strategy: rotation.default("round_robin"),
  key_cooldown_secs: z.number().min(0).default(60),
  url: z.string().default(""),
  azure_deployment_id: z.string().default(""),
  azure_api_version: z.string().default("2024-10-21"),
});

/** One per-tenant key of `gateway_keys` (src/http/gateway_keys.ts); `isartor keys add` writes them. */
export const GatewayKeySchema = z.object({
  key_sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, {
    message: "must be the key's SHA-256 in hex (isartor keys add writes it)",
  }),
  tenant: z.string().regex(/^[A-Za-z0-9._:@-]{1,128}$/, {
    message: "must be 1-128 letters, digits or . _ : @ -",
  }),
  label: z.string().default(""),
  trusted_proxy: z.boolean().default(false),
  requests_per_window: z.number().int().min(0).default(0),
  tokens_per_window: z.number().int().min(0).default(0),
  window_secs: z.number().int().positive().default(3600),
  created: z.string().default(""),
});

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, {
  message: "must be HOST:PORT",
}).refine((v) => {
  const port = Number(v.slice(v.lastIndexOf(":") + 1));
  return port >= 0 && port <= 65535;
}, { message: "port must be between 0 and 65535" });

const redisUrl = z.string().regex(/^rediss?:\/\/[^\s]+$/, {
  message: "must be a redis:// or rediss:// URL",
});

/** The whole configuration. */
export const ConfigSchema = z.object({
  host_port: hostPort.default("127.0.0.1:8080"),
  gateway_api_key: z.string().default(""),
  tenant_header: z.string().default(""),
  data_dir: z.string().default("~/.isartor"),
  max_request_body_bytes: z.number().int().positive().default(32 * 1024 * 1024),
  // --- Security (src/http/origin_guard.ts, docs/security.md) ---
  /** Web page origins allowed to call the gateway (CORS), e.g. "http://localhost:3000". */
  allowed_origins: z.array(z.string()).default([]),
  /** Host names accepted besides the bind address and loopback names. */
  allowed_hosts: z.array(z.string()).default([]),
  /** Per-tenant keys: each names its tenant (and an optional quota); stored hashed. */
  gateway_keys: z.array(GatewayKeySchema).default([]),
  /** A key that sees every tenant's stats; it also passes the gateway key check. */
  admin_api_key: z.string().default(""),
  /** Most seconds a client may take to send its request body. */
  request_read_timeout_secs: z.number().positive().default(30),
  // --- end security ---

  llm_provider: providerName.default("openai"),
  external_llm_url: z.string().default(""),
  external_llm_model: z.string().default(""),
  external_llm_api_key: z.string().default(""),
  azure_deployment_id: z.string().default(""),
  azure_api_version: z.string().default("2024-10-21"),
  provider_keys: z.array(ProviderKeySchema).default([]),
  key_rotation_strategy: rotation.default("round_robin"),
  key_cooldown_secs: z.number().min(0).default(60),
  fallback_providers: z.array(FallbackProviderSchema).default([]),
  model_aliases: z.record(z.string(), z.string()).default({}),
  /** The `copilot` provider's token exchange endpoint; "" is GitHub's (tests and GitHub Enterprise set it). */
  copilot_token_url: z.string().default(""),
  /** GitHub's web origin for the device flow (`isartor set-key -p copilot --device`); "" is github.com. */
  copilot_github_url: z.string().default(""),

  l3_timeout_secs: z.number().positive().default(120),
  l3_max_retries: z.number().int().min(0).max(10).default(2),
  l3_retry_base_ms: z.number().min(0).default(250),
  l3_retry_max_ms: z.number().min(0).default(8000),
  anthropic_default_max_tokens: z.number().int().positive().default(4096),
  offline_mode: z.boolean().default(false),
  l3_http_client: z.enum(["auto", "pooled", "fetch"]).default("auto"),

  // --- Caches (src/cache/, src/layers/exact_cache.ts) ---
  cache_mode: z.enum(["exact", "semantic", "both", "off"]).default("both"),
  cache_backend: z.enum(["kv", "memory", "redis"]).default("kv"),
  cache_ttl_secs: z.number().positive().default(86400),
  cache_max_capacity: z.number().int().positive().default(10000),
  cache_max_bytes: z.number().int().positive().default(256 * 1024 * 1024),
  cache_sampled_requests: z.boolean().default(true),
  // --- end caches ---

  // --- Shared cache on Redis, cache_backend = "redis" (src/cache/redis_*.ts, docs/deployment.md) ---
  redis_url: redisUrl.default("redis://127.0.0.1:6379"),
  /** The database number when `redis_url` names none (`/db`); Redis Cluster has only 0. */
  redis_db: z.number().int().min(0).default(0),
  /** Redis Cluster seed nodes; a comma-separated string works too (for the environment). */
  redis_cluster_nodes: z.preprocess(
    (v) => typeof v === "string" ? v.split(",").map((s) => s.trim()).filter(Boolean) : v,
    z.array(redisUrl),
  ).default([]),
  redis_key_prefix: z.string().regex(/^[A-Za-z0-9_.-]+$/).default("isartor"),
  redis_command_timeout_ms: z.number().int().positive().default(250),
  redis_lock_ttl_secs: z.number().positive().default(15),
  // --- end redis ---

  // --- Semantic cache, L1b (src/layers/semantic_cache.ts, docs/semantic-cache.md) ---
  /** Cosine similarity a match needs: "auto" (the active embedder's calibrated default) or (0, 1]. */
  similarity_threshold: z.union([z.literal("auto"), z.coerce.number().gt(0).max(1)]).default(
    "auto",
  ),
  /** Most questions kept per partition (one conversation prefix); cache_max_capacity bounds all. */
  semantic_max_entries_per_partition: z.number().int().positive().default(5000),
  // --- end semantic cache ---

  // --- Embeddings: the embedder of L1b and `isartor models` (src/embed/) ---
  /** "minilm" (in-process all-MiniLM-L6-v2), "remote" (an embedding server) or "none" (model-free). */
  embedding_backend: z.enum(["minilm", "remote", "none"]).default("minilm"),
  /** The embedding server of backend "remote": TEI (`/embed`) or OpenAI-compatible (`/v1/embeddings`). */
  embedding_sidecar: z.object({
    sidecar_url: z.string().default(""),
    model_name: z.string().default(""),
    timeout_seconds: z.coerce.number().positive().default(10),
  }).default({ sidecar_url: "", model_name: "", timeout_seconds: 10 }),
  /** Where `isartor models pull` puts model files; "" means `<data_dir>/models`. */
  models_dir: z.string().default(""),
  /** WASM threads of the in-process embedder; 0 means one per core, at most 4. */
  embedding_threads: z.coerce.number().int().min(0).max(16).default(0),
  // --- end embeddings ---

  // --- L2 small-model router (src/layers/router.ts, src/slm/, docs/architecture.md) ---
  /** Let a small model answer simple, self-contained questions (off by default). */
  enable_slm_router: z.boolean().default(false),
  /** "embedded" (wllama in process) or "vllm" / "remote" (an OpenAI-compatible server at vllm_url). */
  router_backend: z.enum(["embedded", "vllm", "remote"]).default("embedded"),
  /** The router model server's base URL, with or without /v1. */
  vllm_url: z.string().default(""),
  /** The model name the router model server expects. */
  vllm_model: z.string().default(""),
  /** A GGUF file for the embedded backend; "" means the pinned default from `isartor models pull`. */
  model_path: z.string().default(""),
  layer2: z.object({
    timeout_seconds: z.coerce.number().positive().default(10),
    max_answer_tokens: z.coerce.number().int().positive().default(256),
    classifier_mode: z.enum(["binary", "tiered"]).default("binary"),
    cache_answers: z.boolean().default(false),
    min_confidence: z.coerce.number().gt(0).max(1).default(0.8),
    max_queue: z.coerce.number().int().min(0).default(4),
  }).default({
    timeout_seconds: 10,
    max_answer_tokens: 256,
    classifier_mode: "binary",
    cache_answers: false,
    min_confidence: 0.8,
    max_queue: 4,
  }),
  // --- end L2 ---

  // --- Telemetry: `isartor stats` and `isartor logs --requests` (src/telemetry/) ---
  /** USD per million tokens per provider, for "estimated cost saved"; overrides the built-in estimates. */
  provider_prices: z.record(
    z.string(),
    z.object({
      input_per_mtok: z.coerce.number().min(0),
      output_per_mtok: z.coerce.number().min(0),
      cached_input_per_mtok: z.coerce.number().min(0).optional(),
    }),
  ).default({}),
  /** Append one line per request (no prompts, no keys) to `<data_dir>/requests.jsonl`. */
  log_requests: z.boolean().default(true),
  /** Log request and response bodies (redacted, capped, rotated) for debugging; off by default. */
  enable_request_logs: z.boolean().default(false),
  /** The folder of the body log; "" means `<data_dir>/request_logs`. */
  request_log_path: z.string().default(""),
  /** Export OpenTelemetry traces (OTLP over HTTP, Deno's built-in exporter). */
  enable_monitoring: z.boolean().default(false),
  /** The OTLP/HTTP endpoint, e.g. "http://127.0.0.1:4318"; "" leaves it to OTEL_EXPORTER_OTLP_ENDPOINT. */
  otel_exporter_endpoint: z.string().default(""),
  /** Put the last user turn into the root span (off: spans never hold prompt text). */
  otel_capture_content: z.boolean().default(false),
  // --- end telemetry ---

  // --- Context optimiser, L2.5 (src/layers/context_optimiser.ts, docs/context-optimiser.md) ---
  /** Rewrite what goes to L3 into a smaller prompt (deterministic; `x-isartor-optimize: off` skips it). */
  enable_context_optimizer: z.boolean().default(true),
  /** Comments, decorative rule lines, trailing whitespace and blank runs in instructions. */
  context_optimizer_minify: z.boolean().default(true),
  /** Repeated instruction blocks kept once; identical tool-result line runs folded. */
  context_optimizer_dedup: z.boolean().default(true),
  // --- end context optimiser ---

  // --- MCP server at /mcp (src/mcp/, docs/mcp.md) ---
  /** Seconds an MCP session may sit idle before it expires (the client then initializes again). */
  mcp_session_idle_secs: z.number().positive().default(3600),
  // --- end MCP ---
});

/** The validated configuration, every key present. */
export type Config = z.infer<typeof ConfigSchema>;

/** A key pool entry. */
export type ProviderKey = z.infer<typeof ProviderKeySchema>;

/** A per-tenant gateway key entry. */
export type GatewayKey = z.infer<typeof GatewayKeySchema>;

/** A fallback provider entry. */
export type FallbackProvider = z.infer<typeof FallbackProviderSchema>;

/** What to tell the user, per key, when its value is wrong. */
export const FIX_HINTS: Readonly<Record<string, string>> = {
  host_port: 'set it to HOST:PORT, e.g. "127.0.0.1:8080"',
  llm_provider: `use one of: ${PROVIDER_NAMES.join(", ")}`,
  provider: `use one of: ${PROVIDER_NAMES.join(", ")}`,
  key_rotation_strategy: 'use "round_robin" or "priority"',
  l3_timeout_secs: "set it to a positive number of seconds, e.g. 120",
  l3_max_retries: "set it to a whole number from 0 to 10",
  key_cooldown_secs: "set it to a number of seconds, e.g. 60",
  allowed_origins: 'write it as an array of origins, e.g. ["http://localhost:3000"]',
  allowed_hosts: 'write it as an array of host names, e.g. ["mybox.local"]',
  request_read_timeout_secs: "set it to a positive number of seconds, e.g. 30",
  gateway_keys:
    'manage them with `isartor keys add|list|revoke`; by hand: [[gateway_keys]] key_sha256 = "<hex>" tenant = "team-a"',
  key_sha256: "set it to the key's SHA-256 in hex (isartor keys add writes it)",
  tenant: 'name the tenant with letters, digits or . _ : @ -, e.g. "team-a"',
  trusted_proxy: "set it to true or false",
  requests_per_window: "set it to a whole number of requests, 0 for no limit",
  tokens_per_window: "set it to a whole number of tokens, 0 for no limit",
  window_secs: "set it to a positive whole number of seconds, e.g. 3600",
  max_request_body_bytes: "set it to a positive number of bytes, e.g. 33554432 (32 MiB)",
  model_aliases: 'write it as a table of strings, e.g. [model_aliases] fast = "gpt-4o-mini"',
  provider_keys: 'write it as an array of tables, e.g. [[provider_keys]] key = "sk-..."',
  fallback_providers:
    'write it as an array of tables, e.g. [[fallback_providers]] provider = "groq" model = "llama-3.3-70b-versatile"',
  offline_mode: "set it to true or false",
  copilot_token_url:
    'set it to an http(s) URL, e.g. "https://api.github.com/copilot_internal/v2/token"',
  copilot_github_url: 'set it to an http(s) URL, e.g. "https://github.com"',
  l3_http_client: 'set it to "auto", "pooled" or "fetch"',
  cache_mode: 'use "exact", "semantic", "both" or "off"',
  cache_backend: 'use "kv" (on disk in data_dir), "memory" or "redis" (shared, see redis_url)',
  redis_url: 'set it to a redis:// or rediss:// URL, e.g. "redis://user:password@127.0.0.1:6379/0"',
  redis_db: "set it to a database number (0 or more), e.g. 0; or put it in redis_url as /0",
  redis_cluster_nodes:
    'list the cluster\'s nodes, e.g. ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"]',
  redis_key_prefix: 'use letters, digits, "_", "." or "-", e.g. "isartor"',
  redis_command_timeout_ms: "set it to a positive whole number of milliseconds, e.g. 250",
  redis_lock_ttl_secs: "set it to a positive number of seconds, e.g. 15",
  cache_ttl_secs: "set it to a positive number of seconds, e.g. 86400",
  cache_max_capacity: "set it to a positive whole number of entries, e.g. 10000",
  cache_max_bytes: "set it to a positive number of bytes, e.g. 268435456 (256 MiB)",
  cache_sampled_requests: "set it to true or false",
  similarity_threshold: 'use "auto" or a number above 0 and at most 1, e.g. 0.92',
  semantic_max_entries_per_partition: "set it to a positive whole number of entries, e.g. 5000",
  embedding_backend: 'use "minilm", "remote" or "none"',
  embedding_sidecar:
    'write it as a table, e.g. [embedding_sidecar] sidecar_url = "http://127.0.0.1:8081"',
  sidecar_url: 'set it to the embedding server\'s URL, e.g. "http://127.0.0.1:8081"',
  model_name: 'set it to the model the server should use, e.g. "BAAI/bge-small-en-v1.5"',
  timeout_seconds: "set it to a positive number of seconds, e.g. 10",
  models_dir: 'set it to a folder path, or "" for <data_dir>/models',
  embedding_threads: "set it to a whole number from 0 (automatic) to 16",
  enable_monitoring: "set it to true or false",
  enable_request_logs: "set it to true or false (true only while debugging: bodies hold prompts)",
  request_log_path: 'set it to a folder path, or "" for <data_dir>/request_logs',
  otel_exporter_endpoint: 'set it to the collector\'s OTLP/HTTP URL, e.g. "http://127.0.0.1:4318"',
  otel_capture_content: "set it to true or false",
  mcp_session_idle_secs: "set it to a positive number of seconds, e.g. 3600",
  enable_slm_router: "set it to true or false",
  router_backend: 'use "embedded", "vllm" or "remote"',
  vllm_url: 'set it to the model server\'s base URL, e.g. "http://127.0.0.1:8000/v1"',
  vllm_model: 'set it to the model the server serves, e.g. "qwen2.5-0.5b-instruct"',
  model_path: 'set it to a GGUF file, or "" for the default from `isartor models pull`',
  layer2: "write it as a table, e.g. [layer2] timeout_seconds = 10",
  max_answer_tokens: "set it to a positive whole number of tokens, e.g. 256",
  classifier_mode: 'use "binary" or "tiered"',
  cache_answers: "set it to true or false",
  min_confidence: "set it to a number above 0 and at most 1, e.g. 0.8",
  max_queue: "set it to a whole number of waiting requests, e.g. 4",
  enable_context_optimizer: "set it to true or false",
  context_optimizer_minify: "set it to true or false",
  context_optimizer_dedup: "set it to true or false",
};
