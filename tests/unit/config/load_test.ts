import assert from "node:assert/strict";
import {
  ConfigError,
  configFileCandidates,
  envOverrides,
  expandHome,
  loadConfig,
  type LoadedConfig,
  parseConfig,
  resolveHttpClient,
} from "../../../src/config/load.ts";

const CWD = "/work/project";
const HOME = "/home/ada";
const LOCAL = `${CWD}/isartor.toml`;
const USER = `${HOME}/.isartor/isartor.toml`;

/** Loads with in-memory files (path → TOML text) and environment: no real files, no real env. */
function load(
  files: Record<string, string> = {},
  env: Record<string, string> = {},
  stored?: Record<string, unknown>,
): LoadedConfig & { reads: string[] } {
  const reads: string[] = [];
  const loaded = loadConfig({
    cwd: CWD,
    home: HOME,
    env,
    stored,
    readTextFile: (path) => {
      reads.push(path);
      return files[path] ?? null;
    },
  });
  return { ...loaded, reads };
}

/** The one-line message of the ConfigError a load throws. */
function loadError(files: Record<string, string>, env: Record<string, string> = {}): string {
  try {
    load(files, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    assert.ok(!e.message.includes("\n"), `expected one line, got:\n${e.message}`);
    return e.message;
  }
  assert.fail("expected the configuration to be refused");
}

Deno.test("load: no file and no environment gives the defaults", () => {
  const { config, file, unknownKeys, reads } = load();
  assert.equal(file, null);
  assert.deepEqual(unknownKeys, []);
  assert.deepEqual(reads, [LOCAL, USER]);
  assert.equal(config.host_port, "127.0.0.1:8080");
  assert.equal(config.gateway_api_key, "");
  assert.equal(config.llm_provider, "openai");
  assert.equal(config.data_dir, `${HOME}/.isartor`);
  assert.equal(config.max_request_body_bytes, 32 * 1024 * 1024);
  assert.equal(config.l3_timeout_secs, 120);
  assert.equal(config.l3_max_retries, 2);
  assert.equal(config.l3_retry_base_ms, 250);
  assert.equal(config.l3_retry_max_ms, 8000);
  assert.equal(config.key_rotation_strategy, "round_robin");
  assert.equal(config.key_cooldown_secs, 60);
  assert.equal(config.azure_api_version, "2024-10-21");
  assert.equal(config.anthropic_default_max_tokens, 4096);
  assert.equal(config.offline_mode, false);
  assert.deepEqual(config.provider_keys, []);
  assert.deepEqual(config.fallback_providers, []);
  assert.deepEqual(config.model_aliases, {});
});

Deno.test("load: ./isartor.toml beats ~/.isartor/isartor.toml, and only one file is read", () => {
  const { config, file, reads } = load({
    [LOCAL]: 'llm_provider = "groq"',
    [USER]: 'llm_provider = "anthropic"\nl3_timeout_secs = 5',
  });
  assert.equal(file, LOCAL);
  assert.deepEqual(reads, [LOCAL]);
  assert.equal(config.llm_provider, "groq");
  // The user file is not merged in: its other keys do not apply either.
  assert.equal(config.l3_timeout_secs, 120);
});

Deno.test("load: ~/.isartor/isartor.toml is used when there is no ./isartor.toml", () => {
  const { config, file } = load({ [USER]: 'llm_provider = "anthropic"' });
  assert.equal(file, USER);
  assert.equal(config.llm_provider, "anthropic");
});

Deno.test("load: ISARTOR_CONFIG names the only file read, with ~ expanded", () => {
  const { config, file, reads } = load(
    {
      [`${HOME}/conf/gw.toml`]: 'llm_provider = "mistral"',
      [LOCAL]: 'llm_provider = "groq"',
    },
    { ISARTOR_CONFIG: "~/conf/gw.toml" },
  );
  assert.equal(file, `${HOME}/conf/gw.toml`);
  assert.deepEqual(reads, [`${HOME}/conf/gw.toml`]);
  assert.equal(config.llm_provider, "mistral");
  assert.deepEqual(configFileCandidates({ cwd: CWD, home: HOME, env: {} }), [LOCAL, USER]);
});

Deno.test("load: an ISARTOR__ variable beats the file", () => {
  const { config } = load(
    { [LOCAL]: 'l3_timeout_secs = 60\nllm_provider = "groq"' },
    { ISARTOR__L3_TIMEOUT_SECS: "30" },
  );
  assert.equal(config.l3_timeout_secs, 30);
  assert.equal(config.llm_provider, "groq");
});

Deno.test("load: the file beats stored values, which beat the defaults", () => {
  const { config } = load(
    { [LOCAL]: "l3_max_retries = 4" },
    {},
    { l3_max_retries: 1, external_llm_api_key: "sk-stored" },
  );
  assert.equal(config.l3_max_retries, 4);
  assert.equal(config.external_llm_api_key, "sk-stored");
});

Deno.test("env: variable names are case-insensitive after the prefix; other variables are ignored", () => {
  const { config, unknownKeys } = load({}, {
    ISARTOR__l3_max_retries: "5",
    ISARTOR_CONFIGX: "ignored",
    OPENAI_API_KEY: "sk-not-read",
    ISARTOR__: "nothing",
  });
  assert.equal(config.l3_max_retries, 5);
  assert.equal(config.external_llm_api_key, "");
  assert.deepEqual(unknownKeys, []);
});

Deno.test("env: nested ISARTOR__MODEL_ALIASES__FAST adds to the file's table", () => {
  const { config } = load(
    { [LOCAL]: '[model_aliases]\nsmart = "gpt-4o"' },
    { ISARTOR__MODEL_ALIASES__FAST: "gpt-4o-mini" },
  );
  assert.deepEqual(config.model_aliases, { smart: "gpt-4o", fast: "gpt-4o-mini" });
});

Deno.test("env: arrays and tables are read as JSON and replace the file's arrays", () => {
  const { config } = load(
    { [LOCAL]: '[[provider_keys]]\nkey = "sk-file"' },
    {
      ISARTOR__PROVIDER_KEYS: '[{"key":"sk-1"},{"key":"sk-2","priority":0,"label":"backup"}]',
      ISARTOR__FALLBACK_PROVIDERS: '[{"provider":"groq","model":"llama-3.3-70b-versatile"}]',
      ISARTOR__MODEL_ALIASES: '{"claude-haiku":"claude-haiku-4-5"}',
    },
  );
  assert.deepEqual(config.provider_keys, [
    { key: "sk-1", priority: 1, label: "" },
    { key: "sk-2", priority: 0, label: "backup" },
  ]);
  assert.equal(config.fallback_providers.length, 1);
  assert.equal(config.fallback_providers[0].provider, "groq");
  assert.equal(config.fallback_providers[0].model, "llama-3.3-70b-versatile");
  assert.equal(config.fallback_providers[0].key_rotation_strategy, "round_robin");
  assert.deepEqual(config.model_aliases, { "claude-haiku": "claude-haiku-4-5" });
});

Deno.test("env: values are coerced to the key's type", () => {
  const { config } = load({}, {
    ISARTOR__GATEWAY_API_KEY: "12345",
    ISARTOR__EXTERNAL_LLM_MODEL: "true",
    ISARTOR__L3_RETRY_BASE_MS: "2.5",
    ISARTOR__OFFLINE_MODE: "YES",
  });
  // String keys keep digits (and words like "true") as strings.
  assert.equal(config.gateway_api_key, "12345");
  assert.equal(config.external_llm_model, "true");
  assert.equal(config.l3_retry_base_ms, 2.5);
  assert.equal(config.offline_mode, true);
  for (const [raw, want] of [["1", true], ["on", true], ["false", false], ["0", false]] as const) {
    assert.equal(load({}, { ISARTOR__OFFLINE_MODE: raw }).config.offline_mode, want, raw);
  }
  assert.deepEqual(envOverrides({ ISARTOR__A__B__C: "x", ISARTOR__L3_MAX_RETRIES: "3" }), {
    a: { b: { c: "x" } },
    l3_max_retries: 3,
  });
});

Deno.test("load: ~ in data_dir expands to the home directory", () => {
  assert.equal(load({ [LOCAL]: 'data_dir = "~/gw-data"' }).config.data_dir, `${HOME}/gw-data`);
  assert.equal(load({}, { ISARTOR__DATA_DIR: "~" }).config.data_dir, HOME);
  assert.equal(
    load({}, { ISARTOR__DATA_DIR: "/var/lib/isartor" }).config.data_dir,
    "/var/lib/isartor",
  );
  assert.equal(expandHome("~other/x", HOME), "~other/x");
});

Deno.test("errors: a non-number l3_timeout_secs names the key, value, file and fix", () => {
  const msg = loadError({ [LOCAL]: 'l3_timeout_secs = "abc"' });
  assert.match(
    msg,
    /^config error: l3_timeout_secs = "abc" \(from \/work\/project\/isartor\.toml\): .+; fix: set it to a positive number of seconds, e\.g\. 120$/,
  );
});

Deno.test("errors: a bad environment value names its variable", () => {
  const msg = loadError({}, { ISARTOR__L3_TIMEOUT_SECS: "abc" });
  assert.match(
    msg,
    /^config error: l3_timeout_secs = "abc" \(from environment ISARTOR__L3_TIMEOUT_SECS\): .+; fix: .+$/,
  );
  assert.match(
    loadError({}, { ISARTOR__OFFLINE_MODE: "maybe" }),
    /^config error: offline_mode = "maybe" \(from environment ISARTOR__OFFLINE_MODE\): .+; fix: set it to true or false$/,
  );
});

Deno.test("errors: an unknown llm_provider lists the valid names", () => {
  const msg = loadError({ [LOCAL]: 'llm_provider = "nope"' });
  assert.match(
    msg,
    /^config error: llm_provider = "nope" \(from \/work\/project\/isartor\.toml\): must be one of: .*openai.*; fix: use one of: openai, anthropic, .*openai_compatible$/,
  );
});

Deno.test("errors: host_port without a host is refused", () => {
  assert.match(
    loadError({ [LOCAL]: 'host_port = "8080"' }),
    /^config error: host_port = "8080" \(from .+isartor\.toml\): must be HOST:PORT; fix: set it to HOST:PORT, e\.g\. "127\.0\.0\.1:8080"$/,
  );
  assert.match(
    loadError({}, { ISARTOR__HOST_PORT: "127.0.0.1:70000" }),
    /^config error: host_port = "127\.0\.0\.1:70000" \(from environment ISARTOR__HOST_PORT\): port must be between 0 and 65535; fix: .+$/,
  );
  assert.equal(load({}, { ISARTOR__HOST_PORT: "[::1]:9090" }).config.host_port, "[::1]:9090");
});

Deno.test("errors: a bad entry of an array is named by its path", () => {
  assert.match(
    loadError({ [LOCAL]: '[[fallback_providers]]\nprovider = "zz"' }),
    /^config error: fallback_providers\.0\.provider = "zz" \(from .+\): must be one of: .+; fix: use one of: .+$/,
  );
  assert.match(
    loadError({ [LOCAL]: 'key_rotation_strategy = "random"' }),
    /^config error: key_rotation_strategy = "random" \(from .+\): .+; fix: use "round_robin" or "priority"$/,
  );
  assert.match(
    loadError({ [LOCAL]: "l3_max_retries = 11" }),
    /^config error: l3_max_retries = 11 \(from .+\): .+; fix: set it to a whole number from 0 to 10$/,
  );
});

Deno.test("errors: invalid TOML names the file and the fix", () => {
  const msg = loadError({ [LOCAL]: "l3_timeout_secs = [" });
  assert.match(
    msg,
    /^config error: \/work\/project\/isartor\.toml is not valid TOML: .+; fix: .+$/,
  );
});

Deno.test("load: unknown keys are reported, not fatal", () => {
  const { config, unknownKeys } = load(
    { [LOCAL]: 'l3_timout_secs = 5\nllm_provider = "groq"\n[semantic_cache]\nthreshold = 0.9' },
    { ISARTOR__TELEMETRY_LEVEL: "full" },
  );
  assert.equal(config.llm_provider, "groq");
  assert.equal(config.l3_timeout_secs, 120);
  assert.deepEqual(unknownKeys.sort(), ["l3_timout_secs", "semantic_cache", "telemetry_level"]);
  assert.equal("l3_timout_secs" in config, false);
});

Deno.test("parseConfig: validates raw values with the defaults filled in", () => {
  const cfg = parseConfig({ l3_timeout_secs: 30, provider_keys: [{ key: "sk-a" }] });
  assert.equal(cfg.l3_timeout_secs, 30);
  assert.equal(cfg.host_port, "127.0.0.1:8080");
  assert.deepEqual(cfg.provider_keys, [{ key: "sk-a", priority: 1, label: "" }]);
  assert.throws(
    () => parseConfig({ provider_keys: [{ key: "" }] }),
    (e: unknown) =>
      e instanceof ConfigError &&
      /^config error: provider_keys\.0\.key = "" \(from config\)/.test(e.message),
  );
});

Deno.test("l3_http_client: auto is the pooled client, or fetch when a proxy variable is set", () => {
  assert.equal(resolveHttpClient("auto", {}), "pooled");
  assert.equal(resolveHttpClient("auto", { HTTPS_PROXY: "http://proxy:3128" }), "fetch");
  assert.equal(resolveHttpClient("auto", { http_proxy: "http://proxy:3128" }), "fetch");
  assert.equal(resolveHttpClient("pooled", { HTTPS_PROXY: "http://proxy:3128" }), "pooled");
  assert.equal(resolveHttpClient("fetch", {}), "fetch");
});
