/**
 * The real gateway (createGateway + serveGateway) in its own process, for benchmarks, pointed at
 * an OpenAI-compatible upstream (the mock).
 *
 * Usage: `deno run --allow-net=127.0.0.1 --allow-read=<dir> --allow-write=<dir>
 * bench/servers/gateway_server.ts --upstream <url> --data-dir <dir> [--config <json>]`, where
 * `<json>` holds extra config keys (they override the defaults set here). Prints
 * `{"url": ...}` once listening, then serves until killed.
 *
 * @module
 */

import { createGateway } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load.ts";
import { serveGateway } from "../../src/server.ts";
import { flag, parseFlags } from "../args.ts";
import { announce } from "./spawn.ts";

const flags = parseFlags(Deno.args);
const upstream = flag(flags, "upstream");
const dataDir = flag(flags, "data-dir");
if (!upstream || !dataDir) {
  console.error("usage: gateway_server.ts --upstream <url> --data-dir <dir> [--config <json>]");
  Deno.exit(2);
}
const extra = JSON.parse(flag(flags, "config", "{}")) as Record<string, unknown>;
const config = parseConfig({
  host_port: "127.0.0.1:0",
  data_dir: dataDir,
  llm_provider: "openai_compatible",
  external_llm_url: `${upstream}/v1`,
  external_llm_api_key: "sk-bench",
  ...extra,
});
const server = await serveGateway(createGateway(config));
announce({ url: server.url });
