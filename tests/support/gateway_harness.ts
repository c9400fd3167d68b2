/**
 * Starts a real gateway on an ephemeral loopback port, configured for tests.
 *
 * @module
 */

import { createGateway, type Gateway } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load.ts";
import { serveGateway } from "../../src/server.ts";

/** A gateway under test. */
export interface TestGateway {
  url: string;
  gateway: Gateway;
  close(): Promise<void>;
}

/** Starts a gateway with test defaults (fast retries, no jitter) plus the given config. */
export async function startGateway(config: Record<string, unknown>): Promise<TestGateway> {
  const dataDir = await Deno.makeTempDir({ prefix: "isartor-test-" });
  const cfg = parseConfig({
    host_port: "127.0.0.1:0",
    data_dir: dataDir,
    l3_retry_base_ms: 1,
    l3_retry_max_ms: 20,
    ...config,
  });
  const gateway = createGateway(cfg, { random: () => 1 });
  const server = await serveGateway(gateway);
  return {
    url: server.url,
    gateway,
    async close() {
      await server.shutdown();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}
