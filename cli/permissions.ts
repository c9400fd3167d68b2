/**
 * The Deno permission flags of the gateway process: exactly the bind address,
 * the configured provider hosts, and the data directory. Never `-A`.
 *
 * @module
 */

import type { Config } from "../src/config/schema.ts";
import { configuredBackend } from "../src/embed/build.ts";
import { runtimeReadPaths } from "../src/embed/minilm.ts";
import { type ModelEnv, modelPaths } from "../src/embed/models.ts";
import { buildTargets, targetHosts } from "../src/providers/targets.ts";

/** Whether the semantic cache runs, and with which embedder backend. */
function semanticBackend(config: Config) {
  const on = config.cache_mode === "semantic" || config.cache_mode === "both";
  return on ? configuredBackend(config) : null;
}

/**
 * The hosts the gateway may reach: the providers of the chain, and the
 * embedding server when `embedding_backend = "remote"`. What `isartor check`
 * shows as the air-gap status. Model downloads happen in `isartor up`, never
 * in the gateway process.
 */
export function allowedHosts(config: Config): string[] {
  const hosts = targetHosts(buildTargets(config));
  const url = config.embedding_sidecar.sidecar_url;
  if (semanticBackend(config) === "remote" && url) {
    try {
      const u = new URL(url);
      hosts.push(`${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`);
    } catch { /* a bad URL is reported by the embedder, which then falls back */ }
  }
  return [...new Set(hosts)];
}

/** The files the gateway reads: its data, and for MiniLM the model folders and runtime files. */
export function readPaths(config: Config, env: ModelEnv = {}): string[] {
  const paths = [config.data_dir];
  if (semanticBackend(config) === "minilm") {
    const p = modelPaths(config, env);
    paths.push(p.modelsDir, ...(p.hfHubDir ? [p.hfHubDir] : []), ...runtimeReadPaths());
  }
  return [...new Set(paths)];
}

/** The permission flags for `deno run` of the gateway. */
export function gatewayPermissionFlags(config: Config, env: ModelEnv = {}): string[] {
  const net = [config.host_port, ...allowedHosts(config)];
  return [
    `--allow-net=${net.join(",")}`,
    `--allow-read=${readPaths(config, env).join(",")}`,
    `--allow-write=${config.data_dir}`,
  ];
}
