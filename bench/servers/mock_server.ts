/**
 * The mock upstream (tests/support/mock_upstream.ts) in its own process, for benchmarks.
 *
 * Usage: `deno run --allow-net=127.0.0.1 bench/servers/mock_server.ts [--options <json>]`, where
 * `<json>` is a `MockUpstreamOptions` object (request recording is always off). Prints
 * `{"url": ...}` once listening, then serves until killed.
 *
 * @module
 */

import { type MockUpstreamOptions, startMockUpstream } from "../../tests/support/mock_upstream.ts";
import { flag, parseFlags } from "../args.ts";
import { announce } from "./spawn.ts";

const flags = parseFlags(Deno.args);
const options = JSON.parse(flag(flags, "options", "{}")) as MockUpstreamOptions;
const mock = await startMockUpstream({ ...options, record: false });
announce({ url: mock.url });
