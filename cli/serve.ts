/**
 * `isartor __serve`: the gateway process itself, started by `isartor up` with
 * narrow permissions. It reads its validated config as JSON on stdin, so it
 * needs no access to the environment or to config files. Once listening it
 * writes `<data_dir>/isartor.pid`, and removes it when it stops.
 *
 * @module
 */

import { createGateway, type Gateway } from "../src/app.ts";
import { loadEmbedder } from "../src/embed/build.ts";
import type { ModelEnv } from "../src/embed/models.ts";
import { parseConfig } from "../src/config/load.ts";
import type { Config } from "../src/config/schema.ts";
import { type RunningServer, serveGateway } from "../src/server.ts";
import { VERSION } from "../src/version.ts";
import { type CliIO, EXIT } from "./io.ts";
import { allowedHosts } from "./permissions.ts";
import { isCompiledBinary } from "./up.ts";
import { gatewayFiles, removePidFile, writePidFile } from "./process.ts";

/** What `isartor up` sends on stdin. */
export interface ServeInput {
  config: Config;
  /** Whether the process runs in the background (its output goes to the log file). */
  detached?: boolean;
  /** HF_HOME, HF_ENDPOINT and HOME, for finding the embedding model (no env access needed). */
  env?: ModelEnv;
  /** Where each config key came from, for the dashboard's Config tab. */
  origins?: Record<string, string>;
}

const LAYER_LABELS: Record<string, string> = {
  l1a: "L1a exact cache",
  l1b: "L1b semantic cache",
  l2: "L2 router",
  l3: "L3 cloud",
};

/** The start banner: where it listens, what is on, where data lives, what to do next. */
export function banner(
  config: Config,
  url: string,
  options: { layers?: Record<string, string>; detached?: boolean; pid?: number } = {},
): string[] {
  const targets = [config.llm_provider, ...config.fallback_providers.map((f) => f.provider)];
  const keyed = config.external_llm_api_key || config.provider_keys.length > 0;
  const layers = options.layers ?? { l3: "on" };
  const shown = Object.entries(layers).map(([name, state]) => {
    const label = LAYER_LABELS[name] ?? name;
    return name === "l3" && state === "on"
      ? `${label} → ${targets.join(" → ")}${config.offline_mode ? " (offline_mode: refused)" : ""}`
      : `${label} ${state}`;
  });
  return [
    `isartor ${VERSION} listening on ${url}${options.pid ? ` (pid ${options.pid})` : ""}`,
    `  layers:    ${shown.join(" · ")}`,
    `  auth:      ${
      config.gateway_api_key ? "gateway key required" : "no gateway key (loopback only)"
    }; provider key: ${keyed ? "configured" : "none, clients' own credentials are forwarded"}`,
    isCompiledBinary()
      ? `  network:   providers ${
        allowedHosts(config).join(", ")
      }; not enforced by this compiled binary (run from source for per-host permission flags)`
      : `  network:   only ${allowedHosts(config).join(", ")}`,
    `  data:      ${config.data_dir} (caches, stats, request log)`,
    `  next:      point a client at ${url}/v1 (OpenAI) or ${url} (Anthropic); \`isartor stats\` shows the savings`,
    options.detached
      ? "  stop:      `isartor stop` · log: `isartor logs --follow`"
      : "  stop:      Ctrl-C, or `isartor stop` from another terminal",
  ];
}

/** The layers as the gateway's own health endpoint reports them. */
async function layersOf(gateway: Gateway): Promise<Record<string, string> | undefined> {
  try {
    const key = gateway.config.gateway_api_key;
    const res = await gateway.fetch(
      new Request("http://isartor.internal/health", {
        headers: key ? { authorization: `Bearer ${key}` } : {},
      }),
    );
    const body = await res.json();
    const layers = body?.layers;
    return layers && typeof layers === "object" ? layers as Record<string, string> : undefined;
  } catch {
    return undefined;
  }
}

function stamp(): string {
  return new Date().toISOString();
}

/** Runs the gateway until SIGINT/SIGTERM, then shuts down gracefully. */
export async function runServe(io: CliIO): Promise<number> {
  if (isCompiledBinary()) {
    // A compiled binary cannot narrow its network or file access to a list,
    // but the gateway needs no subprocesses, no environment and no FFI.
    for (const name of ["run", "env", "ffi"] as const) {
      try {
        Deno.permissions.revokeSync({ name });
      } catch { /* not granted in the first place */ }
    }
  }
  const text = await new Response(Deno.stdin.readable).text();
  let input: ServeInput;
  let gateway: Gateway;
  let server: RunningServer;
  try {
    const raw = JSON.parse(text);
    input = {
      config: parseConfig(raw.config),
      detached: raw.detached === true,
      env: raw.env,
      origins: raw.origins,
    };
    const semantic = input.config.cache_mode === "semantic" ||
      input.config.cache_mode === "both";
    // `isartor up` already found or downloaded the model: never download from here.
    const loaded = semantic
      ? await loadEmbedder(input.config, { env: input.env ?? {}, download: false })
      : null;
    if (loaded?.notice) io.err(`isartor: warning: ${loaded.notice}`);
    gateway = createGateway(input.config, {
      embedder: loaded?.embedder,
      configOrigins: input.origins,
    });
  } catch (e) {
    io.err(`isartor __serve: ${(e as Error).message}`);
    return EXIT.failure;
  }
  const config = input.config;
  try {
    server = await serveGateway(gateway);
  } catch (e) {
    await gateway.close().catch(() => {});
    io.err(`isartor: ${(e as Error).message}`);
    return EXIT.failure;
  }
  const pidPath = gatewayFiles(config.data_dir).pid;
  try {
    writePidFile(pidPath, {
      pid: Deno.pid,
      url: server.url,
      port: server.port,
      started_at: stamp(),
      version: VERSION,
    });
  } catch (e) {
    io.err(
      `isartor: cannot write ${pidPath} (${
        (e as Error).message
      }); \`isartor stop\` will not find this process`,
    );
  }
  const layers = await layersOf(gateway);
  const lines = banner(config, server.url, { layers, detached: input.detached, pid: Deno.pid });
  for (const line of lines) io.out(line);

  let stopping: Promise<void> | null = null;
  const stop = () => {
    if (stopping) return;
    io.out(`${stamp()} isartor: shutting down (finishing in-flight requests)...`);
    stopping = server.shutdown().catch((e) =>
      io.err(`${stamp()} isartor: shutdown error: ${e.message}`)
    );
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const sig of signals) Deno.addSignalListener(sig, stop);
  await server.finished;
  // The caches, stats and request log are flushed by the shutdown, after the last request.
  await (stopping ?? gateway.close());
  for (const sig of signals) Deno.removeSignalListener(sig, stop);
  removePidFile(pidPath, Deno.pid);
  io.out(`${stamp()} isartor: stopped`);
  return EXIT.ok;
}
