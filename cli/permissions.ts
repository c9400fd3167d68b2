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
import { routerHost, routerReadPaths } from "../src/slm/build.ts";

/** Whether the semantic cache runs, and with which embedder backend. */
function semanticBackend(config: Config) {
  const on = config.cache_mode === "semantic" || config.cache_mode === "both";
  return on ? configuredBackend(config) : null;
}

/** `host:port` of each Redis node the shared cache uses (`cache_backend = "redis"`). */
export function redisHosts(config: Config): string[] {
  if (config.cache_backend !== "redis") return [];
  const urls = config.redis_cluster_nodes.length ? config.redis_cluster_nodes : [config.redis_url];
  const out: string[] = [];
  for (const url of urls) {
    try {
      const u = new URL(url);
      out.push(`${u.hostname}:${u.port || "6379"}`);
    } catch { /* the schema refuses URLs that are not redis:// or rediss:// */ }
  }
  return out;
}

/**
 * What node-redis reads from the environment, by name: the gateway gets these
 * two variables and no others.
 */
export const REDIS_CLIENT_ENV = ["REDIS_DEBUG_MAINTENANCE", "REDIS_EMIT_DIAGNOSTICS"];

/**
 * The hosts the gateway may reach: the providers of the chain, the Redis
 * nodes of a shared cache, and the embedding server when
 * `embedding_backend = "remote"`. What `isartor check`
 * shows as the air-gap status. Model downloads happen in `isartor up`, never
 * in the gateway process.
 */
export function allowedHosts(config: Config): string[] {
  const hosts = [...targetHosts(buildTargets(config)), ...redisHosts(config)];
  const url = config.embedding_sidecar.sidecar_url;
  if (semanticBackend(config) === "remote" && url) {
    try {
      const u = new URL(url);
      hosts.push(`${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`);
    } catch { /* a bad URL is reported by the embedder, which then falls back */ }
  }
  // The L2 model server, when L2 runs on one.
  const router = routerHost(config);
  if (router) hosts.push(router);
  // The trace exporter's host, only while monitoring is on (Deno's exporter is
  // not gated by --allow-net; listing it keeps the allow-list honest).
  const otel = config.enable_monitoring
    ? otelEndpoint(config, {}) ?? "http://localhost:4318"
    : null;
  if (otel) {
    try {
      const u = new URL(otel);
      hosts.push(`${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`);
    } catch { /* refused at start by otelEnvironment */ }
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
  paths.push(...routerReadPaths(config, env));
  return [...new Set(paths)];
}

/** The permission flags for `deno run` of the gateway. */
export function gatewayPermissionFlags(config: Config, env: ModelEnv = {}): string[] {
  const net = [config.host_port, ...allowedHosts(config)];
  return [
    `--allow-net=${net.join(",")}`,
    `--allow-read=${readPaths(config, env).join(",")}`,
    `--allow-write=${config.data_dir}`,
    ...(config.cache_backend === "redis" ? [`--allow-env=${REDIS_CLIENT_ENV.join(",")}`] : []),
  ];
}

/** The OTLP endpoint in effect: `otel_exporter_endpoint`, else `OTEL_EXPORTER_OTLP_ENDPOINT`. */
export function otelEndpoint(
  config: Config,
  env: Record<string, string | undefined>,
): string | null {
  return config.otel_exporter_endpoint || env.OTEL_EXPORTER_OTLP_ENDPOINT || null;
}

/**
 * The gateway process's environment for traces. With `enable_monitoring`,
 * Deno's exporter is switched on (`OTEL_DENO=true`), pointed at the endpoint,
 * and the user's other `OTEL_*` variables pass; without it, every `OTEL_*`
 * variable is removed, so nothing is exported.
 */
export function otelEnvironment(
  config: Config,
  env: Record<string, string | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && !k.startsWith("OTEL_")) out[k] = v;
  }
  if (!config.enable_monitoring) return out;
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && k.startsWith("OTEL_")) out[k] = v;
  }
  out.OTEL_DENO = "true";
  out.OTEL_SERVICE_NAME ??= "isartor";
  const endpoint = otelEndpoint(config, env);
  if (config.otel_exporter_endpoint) {
    out.OTEL_EXPORTER_OTLP_ENDPOINT = config.otel_exporter_endpoint;
  }
  if (!endpoint) out.OTEL_EXPORTER_OTLP_ENDPOINT ??= "http://localhost:4318";
  return out;
}

/** The env var that points `isartor update` at another release server (tests only). */
export const UPDATE_API_ENV = "ISARTOR_UPDATE_API_URL";

/** The GitHub hosts a release lookup and its asset downloads (after redirects) use. */
const GITHUB_RELEASE_HOSTS = [
  "api.github.com:443",
  "github.com:443",
  "objects.githubusercontent.com:443",
  "release-assets.githubusercontent.com:443",
];

/**
 * The hosts `isartor update` may reach, and only it: the gateway's list
 * ({@link allowedHosts}) never includes them. With `ISARTOR_UPDATE_API_URL`
 * set (tests), that server alone. Every hop of a redirect is checked.
 */
export function updateHosts(env: Record<string, string | undefined>): string[] {
  const override = env[UPDATE_API_ENV];
  if (!override) return [...GITHUB_RELEASE_HOSTS];
  const u = new URL(override);
  return [`${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`];
}
