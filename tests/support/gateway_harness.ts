/**
 * Starts a real gateway on an ephemeral loopback port, configured for tests.
 *
 * @module
 */

import { createGateway, type Gateway, type GatewayOptions } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load.ts";
import { serveGateway } from "../../src/server.ts";
import { type SimulatedUpstream, startSimulatedUpstream } from "../../cli/demo_upstream.ts";
import { type MockUpstream, type MockUpstreamOptions, startMockUpstream } from "./mock_upstream.ts";

/** A gateway under test. */
export interface TestGateway {
  url: string;
  gateway: Gateway;
  /** The temporary data directory (removed on close). */
  dataDir: string;
  close(): Promise<void>;
}

/**
 * Starts a gateway with test defaults (fast retries, no jitter, caches off so
 * L3 tests see every request upstream) plus the given config.
 */
export async function startGateway(
  config: Record<string, unknown>,
  options: GatewayOptions = {},
): Promise<TestGateway> {
  const dataDir = await Deno.makeTempDir({ prefix: "isartor-test-" });
  const cfg = parseConfig({
    host_port: "127.0.0.1:0",
    data_dir: dataDir,
    l3_retry_base_ms: 1,
    l3_retry_max_ms: 20,
    cache_mode: "off",
    ...config,
  });
  const gateway = createGateway(cfg, { random: () => 1, ...options });
  const server = await serveGateway(gateway);
  return {
    url: server.url,
    gateway,
    dataDir,
    async close() {
      await server.shutdown();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

/** A gateway in front of a mock provider, closed together by `await using`. */
export interface MockedGateway extends AsyncDisposable {
  mock: MockUpstream;
  gw: TestGateway;
}

/**
 * Starts a mock provider and a gateway whose OpenAI-compatible provider is that
 * mock, with the in-memory exact cache on; `config` overrides any of it.
 */
export async function startMockedGateway(
  config: Record<string, unknown> = {},
  mockOptions: MockUpstreamOptions = {},
  options: GatewayOptions = {},
): Promise<MockedGateway> {
  const mock = await startMockUpstream(mockOptions);
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: `${mock.url}/v1`,
    cache_mode: "exact",
    cache_backend: "memory",
    ...config,
  }, options);
  return {
    mock,
    gw,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await mock.close();
    },
  };
}

/** A gateway in front of the simulated provider, closed together by `await using`. */
export interface SimulatedGateway extends AsyncDisposable {
  sim: SimulatedUpstream;
  gw: TestGateway;
}

/**
 * Starts the demo's simulated provider (its answer echoes the question, so a
 * cache hit shows whose answer it replays) and a gateway in front of it: both
 * caches in memory, the hash embedder; `config` overrides any of it.
 */
export async function startSimulatedGateway(
  config: Record<string, unknown> = {},
  options: GatewayOptions & { latencyMs?: number } = {},
): Promise<SimulatedGateway> {
  const { latencyMs = 0, ...gatewayOptions } = options;
  const sim = await startSimulatedUpstream({ latencyMs });
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: sim.url,
    external_llm_api_key: "sk-provider",
    cache_mode: "both",
    cache_backend: "memory",
    embedding_backend: "none",
    ...config,
  }, gatewayOptions);
  return {
    sim,
    gw,
    async [Symbol.asyncDispose]() {
      await gw.close();
      await sim.close();
    },
  };
}
