/**
 * How the CLI finds its configuration: the same loader as the gateway, fed
 * from the real environment.
 *
 * @module
 */

import { loadConfig, type LoadedConfig } from "../src/config/load.ts";

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

/** Loads the configuration as the gateway would see it. */
export function loadCliConfig(overrides: Record<string, unknown> = {}): LoadedConfig {
  const env = isartorEnv();
  for (const [k, v] of Object.entries(overrides)) {
    env[`ISARTOR__${k.toUpperCase()}`] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return loadConfig({ cwd: Deno.cwd(), home: homeDir(), env });
}
