import assert from "node:assert/strict";
import { buildCacheBackends, storeFailureReporter } from "../../../src/cache/build.ts";
import { parseConfig } from "../../../src/config/load.ts";
import { Metrics } from "../../../src/telemetry/metrics.ts";

Deno.test("store failures: every one is counted, the warning once a minute per store", () => {
  let now = 1_000;
  const metrics = new Metrics();
  const lines: string[] = [];
  const options = { now: () => now, warn: (l: string) => lines.push(l) };
  const a = storeFailureReporter(metrics, options);
  const b = storeFailureReporter(metrics, options);

  a("get", new Error("ECONNREFUSED"));
  a("set", new Error("ECONNREFUSED"));
  // Another store in the same process (a second gateway, a test) warns for itself.
  b("connect", new Error("timeout"));
  assert.deepEqual(lines, [
    "[isartor] warning: cache store get failed (ECONNREFUSED); serving from memory and upstream until it is back",
    "[isartor] warning: cache store connect failed (timeout); serving from memory and upstream until it is back",
  ]);

  now += 59_999;
  a("get", new Error("still down"));
  assert.equal(lines.length, 2);
  now += 1;
  a("get", new Error("still down"));
  assert.equal(lines.length, 3);
  assert.match(lines[2], /cache store get failed \(still down\)/);

  assert.equal(metrics.cacheStoreErrors.get({ op: "get" }), 3);
  assert.equal(metrics.cacheStoreErrors.get({ op: "set" }), 1);
  assert.equal(metrics.cacheStoreErrors.get({ op: "connect" }), 1);
});

Deno.test("store failures: two gateways' Redis backends each warn when Redis is down", async () => {
  const lines: string[] = [];
  const config = parseConfig({
    cache_backend: "redis",
    // Nothing listens on port 1: the connection is refused at once.
    redis_url: "redis://127.0.0.1:1",
    redis_command_timeout_ms: 50,
  });
  const warn = (l: string) => lines.push(l);
  const one = buildCacheBackends(config, new Metrics(), { warn });
  const two = buildCacheBackends(config, new Metrics(), { warn });
  try {
    await Promise.all([
      one.store!.get(["l1a", "k"]).catch(() => {}),
      two.store!.get(["l1a", "k"]).catch(() => {}),
    ]);
    for (let i = 0; i < 100 && lines.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(lines.length, 2, lines.join("\n"));
    assert.ok(lines.every((l) => l.startsWith("[isartor] warning: cache store ")));
  } finally {
    await one.store!.close();
    await two.store!.close();
  }
});
