/**
 * One-call starters for the benchmark servers, each in its own subprocess with the narrowest
 * permissions it needs.
 *
 * @module
 */

import { REDIS_CLIENT_ENV, redisHosts } from "../../cli/permissions.ts";
import { parseConfig } from "../../src/config/load.ts";
import type { MockUpstreamOptions } from "../../tests/support/mock_upstream.ts";
import type { ScenarioContext } from "../types.ts";
import { type ServerProcess, spawnServer } from "./spawn.ts";

type Ctx = Pick<ScenarioContext, "repoRoot" | "scratchDir">;

/**
 * Starts the mock upstream (request recording off).
 *
 * @example
 * ```ts ignore
 * const mock = await startMockServer(ctx);
 * ```
 */
export function startMockServer(
  ctx: Ctx,
  options: Omit<MockUpstreamOptions, "record"> = {},
): Promise<ServerProcess> {
  return spawnServer({
    name: "mock",
    configPath: `${ctx.repoRoot}/deno.json`,
    script: `${ctx.repoRoot}/bench/servers/mock_server.ts`,
    args: ["--options", JSON.stringify(options)],
    permissions: ["--allow-net=127.0.0.1"],
  });
}

/**
 * Starts the gateway against `upstreamUrl` (provider `openai_compatible`), with a fresh data
 * directory under the scratch directory; `config` adds or overrides config keys. With
 * `cache_backend = "redis"` it may also reach the Redis hosts and read node-redis's two
 * environment variables, as `isartor up` allows (cli/permissions.ts).
 *
 * @example
 * ```ts ignore
 * const gateway = await startGatewayServer(ctx, mock.url, { l3_max_retries: 0 });
 * ```
 */
export async function startGatewayServer(
  ctx: Ctx,
  upstreamUrl: string,
  config: Record<string, unknown> = {},
): Promise<ServerProcess> {
  const dataDir = await Deno.makeTempDir({ dir: ctx.scratchDir, prefix: "gateway-data-" });
  const redis = config.cache_backend === "redis" ? parseConfig(config) : null;
  return spawnServer({
    name: "gateway",
    configPath: `${ctx.repoRoot}/deno.json`,
    script: `${ctx.repoRoot}/bench/servers/gateway_server.ts`,
    args: [
      "--upstream",
      upstreamUrl,
      "--data-dir",
      dataDir,
      "--config",
      JSON.stringify(config),
    ],
    permissions: [
      `--allow-net=${["127.0.0.1", ...(redis ? redisHosts(redis) : [])].join(",")}`,
      `--allow-read=${dataDir}`,
      `--allow-write=${dataDir}`,
      ...(redis ? [`--allow-env=${REDIS_CLIENT_ENV.join(",")}`] : []),
    ],
  });
}

/**
 * Starts the bare `Deno.serve` + `fetch` proxy in front of `upstreamUrl`.
 *
 * @example
 * ```ts ignore
 * const bare = await startBareProxyServer(ctx, mock.url);
 * ```
 */
export function startBareProxyServer(ctx: Ctx, upstreamUrl: string): Promise<ServerProcess> {
  return spawnServer({
    name: "bare_proxy",
    configPath: `${ctx.repoRoot}/deno.json`,
    script: `${ctx.repoRoot}/bench/servers/bare_proxy_server.ts`,
    args: ["--upstream", upstreamUrl],
    permissions: ["--allow-net=127.0.0.1"],
  });
}
