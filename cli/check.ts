/**
 * `isartor check`: one cheap live request per provider in the chain, then
 * what the gateway would run with: layers, bind address and auth, and the
 * exact hosts it may reach (the air-gap status).
 *
 * @module
 */

import { locateModel, modelPaths } from "../src/embed/models.ts";
import { MINILM_L6_V2 } from "../src/embed/model_files.ts";
import { modelEnv } from "./up.ts";
import { parseArgs } from "node:util";
import type { Config } from "../src/config/schema.ts";
import { configuredBackend } from "../src/embed/build.ts";
import { routerStatus } from "../src/slm/build.ts";
import { similarityThreshold } from "../src/semantic/threshold.ts";
import { buildTargets, targetProblem } from "../src/providers/targets.ts";
import { isLoopback, splitHostPort } from "../src/server.ts";
import { loadCliConfig, unusedKeyWarnings } from "./config.ts";
import { findInstance, gatewayFiles } from "./process.ts";
import { type CliIO, EXIT, style, UsageError } from "./io.ts";
import { allowedHosts } from "./permissions.ts";
import { probeFix, type ProbeResult, probeTarget, statusText } from "./probe.ts";
import { startSpinner } from "./spinner.ts";
import { probeCacheStore, type StoreProbe } from "../src/cache/store_probe.ts";
import { type BackendProbe, probeRemoteBackends } from "../src/telemetry/backend_probe.ts";

/** Help for `isartor check`. */
export const usage = `isartor check [--json] [--timeout S]

Tests each provider in the chain (llm_provider, then fallback_providers) with
one cheap request (listing its models: no tokens spent), then shows the
layers, the gateway's bind address and auth, and the exact hosts the gateway
may reach. Exits 1 when the primary provider fails.

Options:
  --timeout S   seconds to wait for each provider (default 5)
  --json        print the report as JSON
  -h, --help    show this help

Examples:
  isartor check
  isartor check --timeout 15
  isartor check --json | jq '.providers[0].status'`;

/**
 * Where the MiniLM model is, when the semantic cache would use it: "present
 * at …", or what is missing and the command that fixes it. Null otherwise.
 * (Sizes only: hashing 23 MB on every check would be slow; `isartor models
 * list` verifies the hashes.)
 */
export async function embedderModelStatus(config: Config): Promise<string | null> {
  const semantic = config.cache_mode === "semantic" || config.cache_mode === "both";
  if (!semantic || configuredBackend(config) !== "minilm") return null;
  const { found } = await locateModel(MINILM_L6_V2, modelPaths(config, modelEnv()), false);
  return found
    ? `model present at ${found.folder}`
    : `model missing: run \`isartor models pull\` (until then the model-free matcher runs)`;
}

/** The layer section: what the configuration turns on, in pipeline order. */
export function layerReport(
  config: Config,
  modelStatus: string | null = null,
  router: string | null = null,
): Record<string, string> {
  const mode = config.cache_mode;
  const mib = (n: number) => `${Math.round(n / 1024 / 1024)} MiB`;
  const store = config.cache_backend === "kv"
    ? `kv on disk (${config.data_dir}/cache.kv)`
    : config.cache_backend === "redis"
    ? "redis, shared by the replicas (see Cache store)"
    : "memory (lost on restart)";
  const chain = [config.llm_provider, ...config.fallback_providers.map((f) => f.provider)];
  const backend = configuredBackend(config);
  return {
    "L1a exact cache": mode === "exact" || mode === "both"
      ? `on: ${store}, ttl ${config.cache_ttl_secs} s, up to ${config.cache_max_capacity} answers / ${
        mib(config.cache_max_bytes)
      }`
      : `off (cache_mode = "${mode}")`,
    "L1b semantic cache": mode === "semantic" || mode === "both"
      ? `on: embedder ${backend}${
        backend === "none" ? " (model-free near-duplicate matcher)" : ""
      }, similarity_threshold ${similarityThreshold(config, { name: backend })}${
        config.similarity_threshold === "auto" ? " (auto)" : ""
      }, ${store}${modelStatus ? `; ${modelStatus}` : ""}`
      : `off (cache_mode = "${mode}")`,
    "L2 router": router ??
      (config.enable_slm_router
        ? `on: ${config.router_backend}`
        : "off (enable_slm_router = false)"),
    "L2.5 context optimiser": config.enable_context_optimizer
      ? `on: ${
        [
          config.context_optimizer_minify ? "minify" : "",
          config.context_optimizer_dedup ? "dedup" : "",
        ].filter(Boolean).join(" + ") || "no rules (both off)"
      }`
      : "off (enable_context_optimizer = false)",
    "L3 cloud": config.offline_mode
      ? `off (offline_mode: cloud calls refused; chain ${chain.join(" → ")})`
      : `on → ${chain.join(" → ")}`,
  };
}

/** The gateway section: bind address, auth, and the non-loopback rule. */
export function gatewayReport(config: Config): {
  bind: string;
  loopback: boolean;
  gatewayKey: boolean;
  problem: string | null;
} {
  const { hostname } = splitHostPort(config.host_port);
  const loopback = isLoopback(hostname);
  const gatewayKey = config.gateway_api_key !== "";
  const problem = !loopback && !gatewayKey
    ? `the gateway binds ${config.host_port} (not loopback) without a gateway key, so \`isartor up\` will refuse to start; fix: set gateway_api_key (or ISARTOR__GATEWAY_API_KEY), or bind 127.0.0.1`
    : null;
  return { bind: config.host_port, loopback, gatewayKey, problem };
}

function parse(args: string[]): { json: boolean; timeout: number } | null {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: "boolean" },
      timeout: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) return null;
  const timeout = values.timeout === undefined ? 5 : Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 600) {
    throw new UsageError(
      `--timeout must be a number of seconds (0 < S <= 600), got "${values.timeout}"`,
    );
  }
  return { json: values.json ?? false, timeout };
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
}

/** What the gateway does while a model server does not answer. */
const WITHOUT: Record<string, string> = {
  "l1b embedder": "a gateway started now would use the model-free matcher instead",
  "l2 router": "L2 passes every request on to L3 while it does not answer",
};

/** Runs `isartor check`. */
export async function runCheck(args: string[], io: CliIO): Promise<number> {
  const opts = parse(args);
  if (opts === null) {
    io.out(usage);
    return EXIT.ok;
  }
  const loaded = loadCliConfig({}, { warn: io.err });
  const { config } = loaded;
  for (const line of unusedKeyWarnings(loaded)) io.err(style(io, line, "yellow"));
  const problem = targetProblem(config);
  if (problem) {
    io.err(style(io, problem, "red"));
    return EXIT.failure;
  }
  const spinner = startSpinner(io, "checking providers...");
  let results: ProbeResult[];
  let cacheStore: StoreProbe;
  let remote: BackendProbe[];
  try {
    [results, cacheStore, remote] = await Promise.all([
      Promise.all(buildTargets(config).map((t) => probeTarget(t, opts.timeout))),
      probeCacheStore(config, opts.timeout),
      probeRemoteBackends(config, opts.timeout),
    ]);
  } finally {
    spinner.stop();
  }
  const gateway = gatewayReport(config);
  const layers = layerReport(
    config,
    await embedderModelStatus(config),
    await routerStatus(config, modelEnv()),
  );
  const hosts = allowedHosts(config);
  const primary = results[0];
  const problems: string[] = [];
  if (primary.status !== "ok") {
    problems.push(
      `primary provider ${primary.provider}: ${statusText(primary)}; fix: ${probeFix(primary)}`,
    );
  }
  if (gateway.problem) problems.push(gateway.problem);
  const ok = problems.length === 0;

  if (opts.json) {
    io.out(JSON.stringify(
      {
        ok,
        config_file: loaded.file,
        credentials_file: loaded.credentials,
        providers: results.map((r) => ({
          provider: r.provider,
          primary: r.position === 0,
          model: r.model,
          key: r.key,
          keys: r.keys,
          endpoint: r.endpoint,
          status: r.status,
          http_status: r.httpStatus,
          message: r.message,
          latency_ms: r.latencyMs,
        })),
        layers,
        cache_store: cacheStore,
        remote_backends: remote,
        gateway: {
          bind: gateway.bind,
          loopback: gateway.loopback,
          gateway_key: gateway.gatewayKey,
        },
        network: {
          listen: config.host_port,
          allowed_hosts: hosts,
          offline_mode: config.offline_mode,
        },
        problems,
      },
      null,
      2,
    ));
    return ok ? EXIT.ok : EXIT.failure;
  }

  const bold = (s: string) => style(io, s, "bold");
  io.out(`config:       ${loaded.file ?? "no isartor.toml (defaults)"}`);
  io.out(`credentials:  ${loaded.credentials ?? "none stored (isartor set-key -p <provider>)"}`);
  io.out("");
  io.out(bold("Providers"));
  const rows = [["PROVIDER", "MODEL", "KEY", "ENDPOINT", "STATUS", "LATENCY"]];
  for (const r of results) {
    rows.push([
      r.position === 0 ? `${r.provider} (primary)` : `${r.provider} (fallback ${r.position})`,
      r.model || "(client's)",
      r.key ? (r.keys > 1 ? `${r.key} +${r.keys - 1}` : r.key) : "-",
      r.endpoint,
      statusText(r),
      r.latencyMs === null ? "-" : `${r.latencyMs} ms`,
    ]);
  }
  const lines = table(rows);
  io.out(`  ${style(io, lines[0], "dim")}`);
  results.forEach((r, i) => {
    const color = r.status === "ok" ? "green" : r.position === 0 ? "red" : "yellow";
    io.out(`  ${style(io, lines[i + 1], color)}`);
  });
  for (const r of results.slice(1)) {
    if (r.status !== "ok") io.out(`  fallback ${r.provider}: fix: ${probeFix(r)}`);
  }
  io.out("");
  io.out(bold("Layers"));
  const lw = Math.max(...Object.keys(layers).map((k) => k.length)) + 1;
  for (const [k, v] of Object.entries(layers)) io.out(`  ${`${k}:`.padEnd(lw)}  ${v}`);
  if (cacheStore.status !== "local") {
    io.out("");
    io.out(bold("Cache store"));
    const line = `  ${cacheStore.backend} at ${cacheStore.target}: ${
      cacheStore.status === "ok"
        ? `answers (PING ${cacheStore.latency_ms} ms)`
        : `unreachable (${cacheStore.message}); the gateway would serve from memory and upstream until it answers`
    }`;
    io.out(style(io, line, cacheStore.status === "ok" ? "green" : "yellow"));
  }
  if (remote.length) {
    io.out("");
    io.out(bold("Model servers"));
    for (const b of remote) {
      const line = `  ${b.layer} (${b.backend}) at ${b.target}: ${b.message}${
        b.latency_ms === null ? "" : ` · ${b.latency_ms} ms`
      }${b.status === "ok" ? "" : `; ${WITHOUT[b.layer] ?? "the gateway works without it"}`}`;
      io.out(style(io, line, b.status === "ok" ? "green" : "yellow"));
    }
  }
  io.out("");
  io.out(bold("Gateway"));
  io.out(`  bind:  ${gateway.bind}${gateway.loopback ? " (loopback: this machine only)" : ""}`);
  io.out(
    `  auth:  ${
      gateway.gatewayKey
        ? "gateway key set (clients send it as Bearer or x-api-key)"
        : "no gateway key (allowed on loopback only; any other address needs gateway_api_key)"
    }`,
  );
  io.out("");
  io.out(bold("Network (air gap)"));
  io.out(`  listens on:  ${config.host_port}`);
  io.out(`  may reach:   ${hosts.join(", ")}`);
  const local = hosts.every((h) => isLoopback(splitHostPort(h).hostname));
  if (local) io.out("  nothing leaves this machine: every provider is local");
  if (config.offline_mode) io.out("  offline_mode: on (cloud calls are refused)");
  io.out("");
  if (ok) {
    const instance = await findInstance(gatewayFiles(config.data_dir).pid);
    io.out(
      instance.state === "running"
        ? `${
          style(io, "✓", "green")
        } ready; the gateway is running on ${instance.info.url} (pid ${instance.info.pid}); restart it (isartor stop, isartor up) to use changed settings`
        : `${style(io, "✓", "green")} ready; next: ${bold("isartor up")}`,
    );
    return EXIT.ok;
  }
  for (const p of problems) io.err(style(io, `✗ ${p}`, "red"));
  return EXIT.failure;
}
