/**
 * Configuration written for the gateway isartor replaces (isartor-ai/Isartor):
 * its section-style TOML, its aliases and the keys of features not built here yet.
 *
 * Every such key is mapped onto ours, or refused with one line that says what
 * to use instead, or (when it only keeps a missing feature off) reported as
 * unused. None is dropped in silence. docs/configuration.md ("Coming from
 * another gateway") lists the same table.
 *
 * @module
 */

type Raw = Record<string, unknown>;

/** What {@linkcode translateLegacy} made of a raw configuration. */
export interface LegacyTranslation {
  /** The configuration in our flat keys. */
  raw: Raw;
  /** One line per legacy key that was read as one of ours (for `check` and the banner). */
  mapped: string[];
  /** A legacy key that cannot be read, as a one-line error; null when all could. */
  problem: string | null;
}

function isTable(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Sets `path` in `out` unless a value is already there (our own flat key wins). */
function setIfAbsent(out: Raw, path: string[], value: unknown): boolean {
  let node = out;
  for (const part of path.slice(0, -1)) {
    if (!isTable(node[part])) node[part] = {};
    node = node[part] as Raw;
  }
  const leaf = path[path.length - 1];
  if (node[leaf] !== undefined) return false;
  node[leaf] = value;
  return true;
}

/** The seed's `semantic_cache.provider` / `semantic_backend` values, as our embedding backends. */
const SEMANTIC_BACKENDS: Record<string, string> = {
  candle: "minilm",
  minilm: "minilm",
  tei: "remote",
  remote: "remote",
  none: "none",
};

/** A legacy key read as one of ours: where it goes, and how its value converts. */
interface Alias {
  to: string[];
  convert?: (v: unknown) => unknown;
}

/** Flat legacy keys (top level, also reached by `ISARTOR__NAME`). */
const FLAT_ALIASES: Record<string, Alias> = {
  semantic_backend: {
    to: ["embedding_backend"],
    convert: (v) => SEMANTIC_BACKENDS[String(v).toLowerCase()] ?? v,
  },
  tei_url: { to: ["embedding_sidecar", "sidecar_url"] },
  local_slm_url: { to: ["vllm_url"] },
  local_slm_model: { to: ["vllm_model"] },
};

/** Section-style TOML: `[section] key` → our flat key. */
const SECTION_ALIASES: Record<string, Record<string, Alias>> = {
  exact_cache: {
    provider: { to: ["cache_backend"] },
    redis_url: { to: ["redis_url"] },
    redis_db: { to: ["redis_db"] },
  },
  semantic_cache: {
    provider: FLAT_ALIASES.semantic_backend,
    remote_url: FLAT_ALIASES.tei_url,
  },
  slm_router: {
    provider: { to: ["router_backend"] },
    remote_url: { to: ["vllm_url"] },
    model: { to: ["vllm_model"] },
    model_path: { to: ["model_path"] },
    classifier_mode: { to: ["layer2", "classifier_mode"] },
    max_answer_tokens: { to: ["layer2", "max_answer_tokens"] },
  },
};

/**
 * Reads the seed's layout as our flat keys: `[server] host/port` and `host`/`port`
 * → `host_port`; `[exact_cache]`, `[semantic_cache]`, `[slm_router]` → their flat
 * keys; `semantic_backend`/`tei_url` → `embedding_backend`/`embedding_sidecar`;
 * `usage_pricing` → `provider_prices`; `external_llm_api_key_file` → the key it holds.
 * `[fallback]` (per-protocol keys) has no flat equivalent and is left for
 * {@linkcode legacyProblems} to refuse.
 *
 * @example
 * ```ts
 * translateLegacy({ server: { host: "127.0.0.1", port: 9090 } }).raw.host_port; // "127.0.0.1:9090"
 * ```
 */
export function translateLegacy(
  input: Raw,
  readTextFile: (path: string) => string | null = () => null,
): LegacyTranslation {
  const raw: Raw = { ...input };
  const mapped: string[] = [];
  let problem: string | null = null;
  const note = (from: string, to: string[]) => mapped.push(`${from} → ${to.join(".")}`);

  // Bind address: [server] host/port, or ISARTOR__HOST / ISARTOR__PORT.
  const server = isTable(raw.server) ? raw.server : {};
  const host = server.host ?? raw.host;
  const port = server.port ?? raw.port;
  if (host !== undefined || port !== undefined) {
    const current = typeof raw.host_port === "string" ? raw.host_port : "127.0.0.1:8080";
    const i = current.lastIndexOf(":");
    const h = host !== undefined ? String(host) : current.slice(0, i);
    const p = port !== undefined ? String(port) : current.slice(i + 1);
    raw.host_port = `${h.includes(":") && !h.startsWith("[") ? `[${h}]` : h}:${p}`;
    note(isTable(input.server) ? "server.host/port" : "host/port", ["host_port"]);
  }
  if (isTable(raw.server)) delete raw.server;
  delete raw.host;
  delete raw.port;

  for (const [section, keys] of Object.entries(SECTION_ALIASES)) {
    const table = raw[section];
    if (!isTable(table)) continue;
    const rest: Raw = {};
    for (const [k, v] of Object.entries(table)) {
      const alias = keys[k];
      if (!alias) {
        rest[k] = v;
        continue;
      }
      setIfAbsent(raw, alias.to, alias.convert ? alias.convert(v) : v);
      note(`${section}.${k}`, alias.to);
    }
    if (Object.keys(rest).length) raw[section] = rest;
    else delete raw[section];
  }
  for (const [k, alias] of Object.entries(FLAT_ALIASES)) {
    if (raw[k] === undefined) continue;
    setIfAbsent(raw, alias.to, alias.convert ? alias.convert(raw[k]) : raw[k]);
    delete raw[k];
    note(k, alias.to);
  }

  if (isTable(raw.usage_pricing)) {
    for (const [provider, price] of Object.entries(raw.usage_pricing)) {
      if (!isTable(price)) continue;
      setIfAbsent(raw, ["provider_prices", provider], {
        input_per_mtok: price.input_cost_per_million_usd ?? 0,
        output_per_mtok: price.output_cost_per_million_usd ?? 0,
      });
    }
    delete raw.usage_pricing;
    note("usage_pricing", ["provider_prices"]);
  }

  // Docker secrets: the key lives in a file.
  const keyFile = raw.external_llm_api_key_file;
  if (typeof keyFile === "string" && keyFile !== "") {
    const text = readTextFile(keyFile);
    if (text === null) {
      problem = `config error: external_llm_api_key_file = ${
        JSON.stringify(keyFile)
      } does not exist; fix: point it at the file that holds the key, or set external_llm_api_key`;
    } else {
      setIfAbsent(raw, ["external_llm_api_key"], text.trim());
      note("external_llm_api_key_file", ["external_llm_api_key"]);
    }
  }
  delete raw.external_llm_api_key_file;
  return { raw, mapped, problem };
}

/** A key of a feature isartor has not built yet: what it is, and which values keep it off. */
interface PlannedKey {
  feature: string;
  /** True when the value asks for nothing the gateway lacks (the feature stays off). */
  harmless: (v: unknown) => boolean;
}

const any = () => true;

/**
 * Keys of the replaced gateway whose feature is not here yet. A value that
 * would turn the feature on refuses to start; one that keeps it off is reported
 * as unused. Keys that this build's schema knows are never looked up here.
 */
export const PLANNED_KEYS: Readonly<Record<string, PlannedKey>> = {
  inference_engine: { feature: "choosing the L2 inference engine", harmless: any },
  classifier_routing: {
    feature: "classifier routing",
    harmless: (v) => !isTable(v) || !v.enabled,
  },
  usage_log_path: { feature: "usage windows and quotas", harmless: any },
  usage_retention_days: { feature: "usage windows and quotas", harmless: any },
  usage_window_hours: { feature: "usage windows and quotas", harmless: any },
  quota: {
    feature: "per-provider quotas",
    harmless: (v) => !isTable(v) || Object.keys(v).length === 0,
  },
  provider_health_check_interval_secs: { feature: "provider health pings", harmless: any },
  embedding_model: { feature: "choosing the in-process embedding model", harmless: any },
  proxy_port: { feature: "the CONNECT proxy", harmless: any },
};

/** Fixed replacements for legacy keys that have a different home here. */
const REPLACED_BY: Readonly<Record<string, string>> = {
  fallback:
    'write each provider as [[fallback_providers]] with provider, model and api_key, e.g. provider = "anthropic"',
};

/** Why the configuration cannot start, and what it has that is not used. */
export interface LegacyReport {
  /** The first key that must be changed, as a one-line error; null when it can start. */
  problem: string | null;
  /** One line per set key that is not used (planned features kept off, unknown keys). */
  unused: string[];
}

/**
 * Sorts the keys the schema does not know: refused (a planned feature turned
 * on, or a key with a different home here), unused (a planned feature kept
 * off), or unknown (typos).
 *
 * @example
 * ```ts
 * legacyProblems({ enable_request_logs: true }, ["enable_request_logs"], () => "isartor.toml").problem;
 * // "config error: enable_request_logs = true (from isartor.toml): request/response body logging is not built yet; ..."
 * ```
 */
export function legacyProblems(
  raw: Raw,
  unknownKeys: string[],
  originOf: (key: string) => string,
): LegacyReport {
  const unused: string[] = [];
  for (const key of unknownKeys) {
    const value = raw[key];
    const replacement = REPLACED_BY[key];
    if (replacement) {
      return {
        problem: `config error: [${key}] (from ${
          originOf(key)
        }) is not read by this gateway; fix: ${replacement}`,
        unused,
      };
    }
    const planned = PLANNED_KEYS[key];
    if (!planned) {
      unused.push(`${key} (unknown key: a typo?)`);
      continue;
    }
    if (!planned.harmless(value)) {
      return {
        problem: `config error: ${key} = ${JSON.stringify(value)} (from ${
          originOf(key)
        }): ${planned.feature} is not built yet; fix: remove ${key} (see docs/configuration.md, "Coming from another gateway")`,
        unused,
      };
    }
    unused.push(`${key} (${planned.feature} is not built yet; the key has no effect)`);
  }
  return { problem: null, unused };
}
