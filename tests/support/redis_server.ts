/**
 * A real redis-server for tests (started by bench/servers/redis_server.ts, which
 * `deno task bench` shares), and the rule for skipping the tests that need one.
 *
 * @module
 */

import {
  missingRedisPrograms,
  REDIS_INSTALL_HINT,
  type RedisCluster,
  type RedisServer,
} from "../../bench/servers/redis_server.ts";
import { skipWithout } from "./system_tool.ts";

export { startRedis, startRedisCluster } from "../../bench/servers/redis_server.ts";

/** A running (or stopped) test Redis. */
export type TestRedis = RedisServer;

/** A test Redis Cluster of three masters on loopback. */
export type TestRedisCluster = RedisCluster;

/**
 * Whether redis-server and redis-cli are installed. Tests that need them
 * are skipped without them, with a note; under CI (CI set) that is a failure.
 */
export function redisAvailable(): boolean {
  const missing = missingRedisPrograms();
  return !skipWithout(
    missing.length === 0 ? "installed" : null,
    "redis-server and redis-cli",
    REDIS_INSTALL_HINT,
  );
}
