import assert from "node:assert/strict";
import { ConfigError, loadConfig, type LoadedConfig } from "../../../src/config/load.ts";

const CWD = "/work/project";
const HOME = "/home/ada";

function load(
  files: Record<string, string>,
  env: Record<string, string> = {},
): LoadedConfig {
  return loadConfig({
    cwd: CWD,
    home: HOME,
    env,
    readTextFile: (path) => files[path] ?? null,
  });
}

function refusal(files: Record<string, string>, env: Record<string, string> = {}): string {
  try {
    load(files, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    assert.ok(!e.message.includes("\n"), e.message);
    return e.message;
  }
  assert.fail("expected the configuration to be refused");
}

/** A full isartor.toml as a user of the replaced gateway writes it (its documented layout). */
const SEED_STYLE = `
llm_provider = "groq"
external_llm_model = "llama-3.3-70b-versatile"
external_llm_api_key_file = "/run/secrets/groq_key"
cache_mode = "both"
similarity_threshold = 0.9
cache_ttl_secs = 300
cache_max_capacity = 10000
enable_slm_router = false
enable_context_optimizer = true
context_optimizer_dedup = true
context_optimizer_minify = true
enable_monitoring = false
otel_exporter_endpoint = "http://localhost:4317"
enable_request_logs = false
usage_window_hours = 24
provider_health_check_interval_secs = 300
offline_mode = false

[server]
host = "127.0.0.1"
port = 9090

[exact_cache]
provider = "memory"

[semantic_cache]
provider = "tei"
remote_url = "http://127.0.0.1:8082"

[slm_router]
provider = "embedded"
classifier_mode = "tiered"

[model_aliases]
fast = "llama-3.1-8b-instant"

[usage_pricing.groq]
input_cost_per_million_usd = 0.59
output_cost_per_million_usd = 0.79

[[fallback_providers]]
provider = "openai"
model = "gpt-4o-mini"
api_key = "sk-fallback"
`;

Deno.test("compat: a full config in the replaced gateway's layout loads with its meaning", () => {
  const loaded = load({
    [`${CWD}/isartor.toml`]: SEED_STYLE,
    "/run/secrets/groq_key": "gsk_secret\n",
  });
  const { config } = loaded;
  assert.equal(config.host_port, "127.0.0.1:9090");
  assert.equal(config.llm_provider, "groq");
  assert.equal(config.external_llm_api_key, "gsk_secret");
  assert.equal(config.cache_backend, "memory");
  assert.equal(config.embedding_backend, "remote");
  assert.equal(config.embedding_sidecar.sidecar_url, "http://127.0.0.1:8082");
  assert.equal(config.similarity_threshold, 0.9);
  assert.deepEqual(config.provider_prices.groq, { input_per_mtok: 0.59, output_per_mtok: 0.79 });
  assert.equal(config.model_aliases.fast, "llama-3.1-8b-instant");
  assert.equal(config.fallback_providers[0].provider, "openai");
  assert.equal(config.enable_slm_router, false);
  assert.equal(config.router_backend, "embedded");
  assert.equal(config.layer2.classifier_mode, "tiered");
  // The context optimiser's keys are honoured, with their meaning.
  assert.equal(config.enable_context_optimizer, true);
  assert.equal(config.context_optimizer_dedup, true);
  assert.equal(config.context_optimizer_minify, true);
  // Nothing dropped in silence: every key of a feature not built here is reported.
  const unused = loaded.unusedKeys.join("\n");
  for (
    const key of [
      "usage_window_hours",
      "provider_health_check_interval_secs",
    ]
  ) {
    assert.ok(unused.includes(key), `${key} missing from:\n${unused}`);
  }
  // Keys built here since keep their meaning.
  assert.equal(config.enable_request_logs, false);
  assert.ok(!unused.includes("enable_request_logs"));
  assert.ok(loaded.mappedKeys.some((m) => m.startsWith("server.host/port")));
  assert.ok(loaded.mappedKeys.some((m) => m.startsWith("semantic_cache.provider")));
});

Deno.test("compat: the environment names of the replaced gateway work too", () => {
  const { config, mappedKeys } = load({}, {
    ISARTOR__PORT: "9191",
    ISARTOR__SEMANTIC_BACKEND: "tei",
    ISARTOR__TEI_URL: "http://127.0.0.1:8083",
  });
  assert.equal(config.host_port, "127.0.0.1:9191");
  assert.equal(config.embedding_backend, "remote");
  assert.equal(config.embedding_sidecar.sidecar_url, "http://127.0.0.1:8083");
  assert.ok(mappedKeys.length >= 2);
});

Deno.test("compat: the replaced gateway's Redis keys turn on the shared cache", () => {
  const { config, unusedKeys } = load({
    [`${CWD}/isartor.toml`]:
      `[exact_cache]\nprovider = "redis"\nredis_url = "redis://cache:pw@127.0.0.1:6390"\nredis_db = 2\n`,
  });
  assert.equal(config.cache_backend, "redis");
  assert.equal(config.redis_url, "redis://cache:pw@127.0.0.1:6390");
  assert.equal(config.redis_db, 2);
  assert.deepEqual(unusedKeys, []);
  const env = load({}, {
    ISARTOR__CACHE_BACKEND: "redis",
    ISARTOR__REDIS_URL: "rediss://127.0.0.1:6391/4",
    ISARTOR__REDIS_DB: "1",
  }).config;
  assert.equal(env.cache_backend, "redis");
  assert.equal(env.redis_url, "rediss://127.0.0.1:6391/4");
  assert.equal(env.redis_db, 1);
});

Deno.test("compat: our own flat key wins over its legacy alias", () => {
  const { config } = load({}, {
    ISARTOR__EMBEDDING_BACKEND: "none",
    ISARTOR__SEMANTIC_BACKEND: "tei",
  });
  assert.equal(config.embedding_backend, "none");
});

Deno.test("compat: a feature that is not built yet refuses to start when turned on", () => {
  const msg = refusal({}, { ISARTOR__CLASSIFIER_ROUTING__ENABLED: "true" });
  assert.match(msg, /classifier_routing = \{"enabled":"true"\} \(from environment/);
  assert.match(msg, /classifier routing is not built yet; fix: remove classifier_routing/);
  // Body logging is built: the seed's names are honoured.
  const logs = load({}, {
    ISARTOR__ENABLE_REQUEST_LOGS: "true",
    ISARTOR__REQUEST_LOG_PATH: "/tmp/rl",
  });
  assert.equal(logs.config.enable_request_logs, true);
  assert.equal(logs.config.request_log_path, "/tmp/rl");
});

Deno.test("compat: the L2 keys are honoured, and a wrong value fails in one line", () => {
  const { config } = load({}, {
    ISARTOR__ENABLE_SLM_ROUTER: "true",
    ISARTOR__ROUTER_BACKEND: "vllm",
    ISARTOR__LOCAL_SLM_URL: "http://127.0.0.1:8000",
    ISARTOR__LAYER2__TIMEOUT_SECONDS: "3",
    ISARTOR__LAYER2__CACHE_ANSWERS: "true",
  });
  assert.equal(config.enable_slm_router, true);
  assert.equal(config.router_backend, "vllm");
  assert.equal(config.vllm_url, "http://127.0.0.1:8000");
  assert.equal(config.layer2.timeout_seconds, 3);
  assert.equal(config.layer2.cache_answers, true);
  const msg = refusal({}, { ISARTOR__LAYER2__CLASSIFIER_MODE: "fuzzy" });
  assert.doesNotMatch(msg, /\n/);
  assert.match(msg, /layer2\.classifier_mode = "fuzzy".*fix: use "binary" or "tiered"/);
  assert.match(refusal({}, { ISARTOR__ROUTER_BACKEND: "gpu" }), /router_backend = "gpu"/);
});

Deno.test("compat: the context optimiser's keys of the replaced gateway are read as ours", () => {
  const { config, unusedKeys } = load({}, {
    ISARTOR__ENABLE_CONTEXT_OPTIMIZER: "false",
    ISARTOR__CONTEXT_OPTIMIZER_DEDUP: "false",
  });
  assert.equal(config.enable_context_optimizer, false);
  assert.equal(config.context_optimizer_dedup, false);
  assert.equal(config.context_optimizer_minify, true);
  assert.deepEqual(unusedKeys.filter((k) => k.includes("context_optimizer")), []);
});

Deno.test("compat: [fallback] is refused with the layout to use instead", () => {
  const msg = refusal({
    [`${CWD}/isartor.toml`]: '[fallback]\nopenai_api_key = "sk-x"\n',
  });
  assert.match(msg, /\[fallback\] \(from \/work\/project\/isartor.toml\) is not read/);
  assert.match(msg, /\[\[fallback_providers\]\]/);
});

Deno.test("compat: a missing key file is refused in one line", () => {
  const msg = refusal({}, { ISARTOR__EXTERNAL_LLM_API_KEY_FILE: "/run/secrets/none" });
  assert.match(msg, /external_llm_api_key_file = "\/run\/secrets\/none" does not exist/);
});

Deno.test("compat: a typo is reported as unknown, not dropped", () => {
  const { unusedKeys } = load({}, { ISARTOR__CACHE_TTL_SEC: "5" });
  assert.deepEqual(unusedKeys, ["cache_ttl_sec (unknown key: a typo?)"]);
});
