/**
 * `isartor __serve`: the gateway process itself, started by `isartor up` with
 * narrow permissions. It reads its validated config as JSON on stdin, so it
 * needs no access to the environment or to config files.
 *
 * @module
 */

import { createGateway } from "../src/app.ts";
import { parseConfig } from "../src/config/load.ts";
import type { Config } from "../src/config/schema.ts";
import { serveGateway } from "../src/server.ts";
import { VERSION } from "../src/version.ts";
import { type CliIO, EXIT } from "./io.ts";
import { allowedHosts } from "./permissions.ts";

/** The start banner: where it listens, what is on, where data lives, what to do next. */
export function banner(config: Config, url: string): string[] {
  const targets = [config.llm_provider, ...config.fallback_providers.map((f) => f.provider)];
  const keyed = config.external_llm_api_key || config.provider_keys.length > 0;
  return [
    `isartor ${VERSION} listening on ${url}`,
    `  layers:    L3 cloud → ${targets.join(" → ")}${
      config.offline_mode ? " (offline_mode: cloud calls refused)" : ""
    }`,
    `  auth:      ${
      config.gateway_api_key ? "gateway key required" : "no gateway key (loopback only)"
    }; provider key: ${keyed ? "configured" : "none, clients' own credentials are forwarded"}`,
    `  network:   only ${allowedHosts(config).join(", ")}`,
    `  data:      ${config.data_dir}`,
    `  next:      point a client at ${url}/v1 (OpenAI) or ${url} (Anthropic)`,
  ];
}

/** Runs the gateway until SIGINT/SIGTERM, then shuts down gracefully. */
export async function runServe(io: CliIO): Promise<number> {
  const input = await new Response(Deno.stdin.readable).text();
  let config: Config;
  try {
    config = parseConfig(JSON.parse(input).config);
  } catch (e) {
    io.err(`isartor __serve: ${(e as Error).message}`);
    return EXIT.failure;
  }
  const server = await serveGateway(createGateway(config));
  for (const line of banner(config, server.url)) io.out(line);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    io.out("isartor: shutting down (finishing in-flight requests)...");
    server.shutdown().catch((e) => io.err(`isartor: shutdown error: ${e.message}`));
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  io.out("isartor: stopped");
  return EXIT.ok;
}
