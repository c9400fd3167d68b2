/**
 * One look at the shared cache store for `isartor check` and `/health`:
 * whether Redis answers a PING, how fast, and what it holds.
 *
 * @module
 */

import type { Config } from "../config/schema.ts";
import { redactRedisUrl, RedisConnection, redisUrlWithDb } from "./redis_client.ts";

/** What the probe found. */
export interface StoreProbe {
  backend: string;
  /** Where it is (a path, or the Redis URLs without passwords). */
  target: string;
  /** "ok", "unreachable", or "local" (kv and memory have nothing to reach). */
  status: "ok" | "unreachable" | "local";
  latency_ms: number | null;
  message: string;
}

/** The Redis URLs of the config (cluster seed nodes, or the one URL with its database). */
export function redisTargets(config: Config): string[] {
  return config.redis_cluster_nodes.length
    ? config.redis_cluster_nodes
    : [redisUrlWithDb(config.redis_url, config.redis_db)];
}

/** Probes the cache store `cache_backend` names, waiting at most `timeoutS` for Redis. */
export async function probeCacheStore(config: Config, timeoutS: number): Promise<StoreProbe> {
  if (config.cache_backend !== "redis") {
    return {
      backend: config.cache_backend,
      target: config.cache_backend === "kv" ? `${config.data_dir}/cache.kv` : "process memory",
      status: "local",
      latency_ms: null,
      message: config.cache_backend === "kv" ? "a file on this machine" : "lost on restart",
    };
  }
  const nodes = config.redis_cluster_nodes;
  const urls = redisTargets(config);
  const base = {
    backend: nodes.length ? "redis cluster" : "redis",
    target: urls.map(redactRedisUrl).join(","),
  };
  const timeoutMs = timeoutS * 1000;
  const conn = RedisConnection.open({
    url: urls[0],
    clusterNodes: nodes,
    commandTimeoutMs: timeoutMs,
  });
  const started = performance.now();
  try {
    while (!conn.ready && performance.now() - started < timeoutMs) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (!conn.ready) {
      return {
        ...base,
        status: "unreachable",
        latency_ms: null,
        message: conn.lastError || `no connection within ${timeoutS} s`,
      };
    }
    const t0 = performance.now();
    await conn.command(undefined, ["PING"]);
    const latency = Math.round((performance.now() - t0) * 100) / 100;
    return { ...base, status: "ok", latency_ms: latency, message: "answers PING" };
  } catch (e) {
    return { ...base, status: "unreachable", latency_ms: null, message: (e as Error).message };
  } finally {
    conn.close();
  }
}
