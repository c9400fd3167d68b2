/**
 * How the CLI finds its configuration: the same loader as the gateway, fed
 * from the real environment.
 *
 * @module
 */

import { loadConfig, type LoadedConfig } from "../src/config/load.ts";
import { credentialsPath, permissionWarnings, readCredentialsSync } from "./credentials.ts";

/** The user's home directory. */
export function homeDir(): string {
  return Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? Deno.cwd();
}

/** The `ISARTOR__*` and `ISARTOR_CONFIG` variables, and nothing else. */
export function isartorEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (k.startsWith("ISARTOR__") || k === "ISARTOR_CONFIG") out[k] = v;
  }
  return out;
}

/** The configuration as the CLI sees it, and where the stored credentials came from. */
export interface CliLoadedConfig extends LoadedConfig {
  /** The credentials file that was layered in, if any. */
  credentials: string | null;
}

/** Options of {@linkcode loadCliConfig}. */
export interface CliConfigOptions {
  /** Where warnings go (a credentials file readable by others); stderr by default. */
  warn?: (line: string) => void;
}

/**
 * Loads the configuration as the gateway would see it: defaults < stored
 * credentials (`<data_dir>/credentials`, written by `isartor set-key`) <
 * `isartor.toml` < `ISARTOR__*` variables.
 */
export function loadCliConfig(
  overrides: Record<string, unknown> = {},
  options: CliConfigOptions = {},
): CliLoadedConfig {
  const env = isartorEnv();
  for (const [k, v] of Object.entries(overrides)) {
    env[`ISARTOR__${k.toUpperCase()}`] = typeof v === "string" ? v : JSON.stringify(v);
  }
  const sources = { cwd: Deno.cwd(), home: homeDir(), env };
  const first = loadConfig(sources);
  const path = credentialsPath(first.config.data_dir);
  const stored = readCredentialsSync(path);
  if (stored === null) return { ...first, credentials: null };
  const warn = options.warn ?? ((line: string) => console.error(line));
  for (const w of permissionWarnings(path)) warn(`isartor: ${w}`);
  return { ...loadConfig({ ...sources, stored }), credentials: path };
}

/** The banner's warning lines: keys that are set but have no effect, and legacy keys read as ours. */
export function unusedKeyWarnings(
  loaded: { unusedKeys: string[]; mappedKeys: string[] },
): string[] {
  const lines: string[] = [];
  if (loaded.unusedKeys.length) {
    lines.push(`isartor: warning: config keys with no effect: ${loaded.unusedKeys.join("; ")}`);
  }
  if (loaded.mappedKeys.length) {
    lines.push(`isartor: read as this gateway's keys: ${loaded.mappedKeys.join(", ")}`);
  }
  return lines;
}
