/**
 * Loads the configuration: defaults < `isartor.toml` < `ISARTOR__KEY` environment variables.
 *
 * The file is the first found of `./isartor.toml` and `~/.isartor/isartor.toml`
 * (or the one named by `ISARTOR_CONFIG`). A bad value fails with one line that
 * names the key, the value and the fix.
 *
 * @module
 */

import { parse as parseToml } from "smol-toml";
import { type Config, ConfigSchema, FIX_HINTS } from "./schema.ts";
import { legacyProblems, translateLegacy } from "./compat.ts";

/** A configuration problem, phrased for the person who has to fix it. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Where the loader looks; injectable so tests and the CLI never touch real globals. */
export interface ConfigSources {
  /** Working directory, for `./isartor.toml`. */
  cwd: string;
  /** The user's home directory, for `~` and `~/.isartor/isartor.toml`. */
  home: string;
  /** Environment variables (only `ISARTOR__*` and `ISARTOR_CONFIG` are read). */
  env: Record<string, string | undefined>;
  /** Reads a file, or returns null when it does not exist. */
  readTextFile?: (path: string) => string | null;
  /** Extra values layered between the defaults and the file (the CLI's stored credentials). */
  stored?: Record<string, unknown>;
}

/** The loaded configuration and where it came from. */
export interface LoadedConfig {
  config: Config;
  /** The config file that was read, if any. */
  file: string | null;
  /** Keys that were set but are not known (typos or features of the seed we do not have). */
  unknownKeys: string[];
  /** One line per set key that has no effect (a planned feature kept off, or an unknown key). */
  unusedKeys: string[];
  /** One line per key of the replaced gateway's layout that was read as one of ours. */
  mappedKeys: string[];
  /** Where each top-level key's value came from: "default", the file, an environment variable, "stored credentials". */
  origins: Record<string, string>;
}

const ENV_PREFIX = "ISARTOR__";

function defaultRead(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new ConfigError(`config error: cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Expands a leading `~` to the home directory. */
export function expandHome(path: string, home: string): string {
  if (path === "~") return home;
  if (path.startsWith("~/")) return `${home}/${path.slice(2)}`;
  return path;
}

/** The config file to read: `ISARTOR_CONFIG`, else `./isartor.toml`, else `~/.isartor/isartor.toml`. */
export function configFileCandidates(src: ConfigSources): string[] {
  const explicit = src.env["ISARTOR_CONFIG"];
  if (explicit) return [expandHome(explicit, src.home)];
  return [`${src.cwd}/isartor.toml`, `${src.home}/.isartor/isartor.toml`];
}

const DEFAULTS: Record<string, unknown> = ConfigSchema.parse({});

/** Converts one environment string to the type its key expects. */
function coerceEnvValue(path: string[], raw: string): unknown {
  // A nested key (`layer2.cache_answers`) converts to the type of its own default.
  const found = valueAt(DEFAULTS, path);
  const expected = found === undefined ? (path.length === 1 ? undefined : "") : found;
  if (typeof expected === "string") return raw;
  if (typeof expected === "number") {
    const n = Number(raw);
    return raw.trim() !== "" && Number.isFinite(n) ? n : raw;
  }
  if (typeof expected === "boolean") {
    const v = raw.trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(v)) return true;
    if (["false", "0", "no", "off"].includes(v)) return false;
    return raw;
  }
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** Collects `ISARTOR__A__B=v` variables into `{a: {b: v}}`. */
export function envOverrides(env: Record<string, string | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const path = name.slice(ENV_PREFIX.length).toLowerCase().split("__").filter(Boolean);
    if (path.length === 0) continue;
    let node = out;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      node = (next && typeof next === "object" && !Array.isArray(next))
        ? next as Record<string, unknown>
        : (node[part] = {}) as Record<string, unknown>;
    }
    node[path[path.length - 1]] = coerceEnvValue(path, raw);
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep-merges tables; arrays and scalars from `over` replace those in `base`. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>) {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k])
      ? merge(out[k] as Record<string, unknown>, v)
      : v;
  }
  return out;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function valueAt(obj: unknown, path: PropertyKey[]): unknown {
  let v = obj;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/**
 * Validates raw values into a Config, or throws a one-line ConfigError.
 *
 * @example
 * ```ts
 * const cfg = parseConfig({ l3_timeout_secs: 30 });
 * cfg.host_port; // "127.0.0.1:8080"
 * ```
 */
export function parseConfig(
  raw: Record<string, unknown>,
  originOf: (topKey: string) => string = () => "config",
): Config {
  const result = ConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = issue.path.map(String).join(".") || "(root)";
  const leaf = [...issue.path].reverse().find((p) => typeof p === "string") as string | undefined;
  const hint = (leaf && FIX_HINTS[leaf]) ?? FIX_HINTS[String(issue.path[0])] ??
    "see docs/configuration.md";
  const value = valueAt(raw, issue.path);
  throw new ConfigError(
    `config error: ${key} = ${show(value)} (from ${
      originOf(String(issue.path[0]))
    }): ${issue.message}; fix: ${hint}`,
  );
}

/** Variables that route outgoing HTTP through a proxy (honoured by Deno's fetch). */
const PROXY_VARIABLES = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"];

/**
 * `l3_http_client = "auto"` made concrete: the pooled client, unless a proxy variable is set;
 * then fetch, which honours it.
 *
 * @example
 * ```ts
 * resolveHttpClient("auto", { HTTPS_PROXY: "http://proxy:3128" }); // "fetch"
 * ```
 */
export function resolveHttpClient(
  setting: Config["l3_http_client"],
  env: Record<string, string | undefined>,
): "pooled" | "fetch" {
  if (setting !== "auto") return setting;
  return PROXY_VARIABLES.some((name) => env[name]) ? "fetch" : "pooled";
}

/** Loads and validates the configuration from defaults, file and environment. */
export function loadConfig(src: ConfigSources): LoadedConfig {
  const read = src.readTextFile ?? defaultRead;
  let file: string | null = null;
  let fromFile: Record<string, unknown> = {};
  const explicit = src.env["ISARTOR_CONFIG"];
  for (const candidate of configFileCandidates(src)) {
    const text = read(candidate);
    if (text === null && explicit) {
      throw new ConfigError(
        `config error: ISARTOR_CONFIG = ${
          JSON.stringify(explicit)
        } but ${candidate} does not exist; fix: point ISARTOR_CONFIG at an existing file or unset it`,
      );
    }
    if (text === null) continue;
    file = candidate;
    try {
      fromFile = parseToml(text) as Record<string, unknown>;
    } catch (e) {
      const first = (e as Error).message.split("\n")[0];
      throw new ConfigError(
        `config error: ${candidate} is not valid TOML: ${first}; fix: correct the syntax or run \`isartor init --force\` for a fresh file`,
      );
    }
    break;
  }
  const fromEnv = envOverrides(src.env);
  const legacy = translateLegacy(
    merge(merge(src.stored ?? {}, fromFile), fromEnv),
    (path) => read(expandHome(path, src.home)),
  );
  if (legacy.problem) throw new ConfigError(legacy.problem);
  const merged = legacy.raw;
  const known = new Set(Object.keys(DEFAULTS));
  const unknownKeys = Object.keys(merged).filter((k) => !known.has(k));
  const originOf = (k: string) =>
    k in fromEnv
      ? `environment ${ENV_PREFIX}${k.toUpperCase()}`
      : k in fromFile
      ? file!
      : k in (src.stored ?? {})
      ? "stored credentials"
      : file ?? "environment";
  const report = legacyProblems(merged, unknownKeys, originOf);
  if (report.problem) throw new ConfigError(report.problem);
  const config = parseConfig(merged, originOf);
  config.data_dir = expandHome(config.data_dir, src.home);
  // Decided here, where the environment is readable: the gateway process has no env access.
  config.l3_http_client = resolveHttpClient(config.l3_http_client, src.env);
  const origins: Record<string, string> = {};
  for (const k of Object.keys(config)) origins[k] = k in merged ? originOf(k) : "default";
  return {
    config,
    file,
    unknownKeys,
    unusedKeys: report.unused,
    mappedKeys: legacy.mapped,
    origins,
  };
}
