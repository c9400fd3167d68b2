// Cluster mode on real servers: two gateways on their own ports sharing one real redis-server.
// L1a and L1b across replicas, single-flight across replicas, Redis faults, deletion, restart.
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import { gatewayPermissionFlags, redisHosts } from "../../cli/permissions.ts";
import { startSimulatedUpstream } from "../../cli/demo_upstream.ts";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startGateway, type TestGateway } from "../support/gateway_harness.ts";
import {
  redisAvailable,
  startRedis,
  startRedisCluster,
  type TestRedis,
} from "../support/redis_server.ts";

const ignore = !redisAvailable();
const MODEL = "gpt-4o-mini";

function chat(content: string) {
  return { model: MODEL, temperature: 0, messages: [{ role: "user", content }] };
}

async function send(gw: TestGateway, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, layer: res.headers.get("x-isartor-layer"), text };
}

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function health(gw: TestGateway) {
  return await (await fetch(`${gw.url}/health`)).json();
}

/** Waits until both replicas' store answers (connected, not in a slow spell). */
async function bothAnswering(a: TestGateway, b: TestGateway, what: string): Promise<void> {
  await until(
    async () => (await health(a)).cache_store.answering && (await health(b)).cache_store.answering,
    what,
  );
}

async function stats(gw: TestGateway) {
  return await (await fetch(`${gw.url}/api/v1/cache/stats`)).json();
}

/** A replica's config: Redis as the cache store, one upstream, the model-free embedder. */
function replicaConfig(upstreamUrl: string, extra: Record<string, unknown>) {
  return {
    llm_provider: "openai_compatible",
    external_llm_url: upstreamUrl,
    external_llm_api_key: "sk-provider",
    cache_mode: "exact",
    cache_backend: "redis",
    embedding_backend: "none",
    ...extra,
  };
}

/** Two replicas on one Redis, in front of one upstream. */
async function cluster(upstreamUrl: string, extra: Record<string, unknown> = {}) {
  const redis = await startRedis();
  const config = replicaConfig(upstreamUrl, { redis_url: redis.url, ...extra });
  const a = await startGateway(config);
  const b = await startGateway(config);
  await bothAnswering(a, b, "both replicas connected");
  return {
    redis,
    a,
    b,
    config,
    async [Symbol.asyncDispose]() {
      await a.close();
      await b.close();
      await redis.close();
    },
  };
}

Deno.test("cluster: the gateway may reach the Redis hosts, and reads only node-redis's two variables", () => {
  const config = parseConfig({
    cache_backend: "redis",
    redis_url: "rediss://user:pw@cache.internal:6380/2",
  });
  assert.deepEqual(redisHosts(config), ["cache.internal:6380"]);
  const flags = gatewayPermissionFlags(config);
  assert.ok(flags.find((f) => f.startsWith("--allow-net="))!.includes("cache.internal:6380"));
  assert.ok(flags.includes("--allow-env=REDIS_DEBUG_MAINTENANCE,REDIS_EMIT_DIAGNOSTICS"));
  const nodes = parseConfig({
    cache_backend: "redis",
    redis_cluster_nodes: "redis://10.0.0.1:7000, redis://10.0.0.2:7001",
  });
  assert.deepEqual(redisHosts(nodes), ["10.0.0.1:7000", "10.0.0.2:7001"]);
  assert.ok(!gatewayPermissionFlags(parseConfig({})).some((f) => f.startsWith("--allow-env")));
});

Deno.test({
  name: "cluster: an answer stored through A is an L1a hit on B, and on a restarted replica",
  ignore,
  fn: async () => {
    const sim = await startSimulatedUpstream({ latencyMs: 0 });
    await using c = await cluster(sim.url);
    try {
      const first = await send(c.a, chat("What is the capital of France?"));
      assert.equal(first.layer, "l3");
      await until(async () => (await stats(c.a)).shared?.entries?.l1a === 1, "stored in Redis");
      const onB = await send(c.b, chat("What is the capital of France?"));
      assert.equal(onB.layer, "l1a");
      assert.equal(onB.text, first.text);
      assert.equal(sim.calls, 1);
      const h = await health(c.b);
      assert.equal(h.cache_store.backend, "redis");
      assert.equal(h.cache_store.answering, true);
      assert.match(h.layers.l1a, /memory\+redis/);

      // A new replica (a restart) finds the shared entries.
      const fresh = await startGateway(c.config);
      try {
        await until(async () => (await health(fresh)).cache_store.answering, "connect");
        assert.equal((await send(fresh, chat("What is the capital of France?"))).layer, "l1a");
        assert.equal(sim.calls, 1);
      } finally {
        await fresh.close();
      }
    } finally {
      await sim.close();
    }
  },
});

Deno.test({
  name: "cluster: a paraphrase through B is an L1b hit for an entry A stored after B started",
  ignore,
  fn: async () => {
    const sim = await startSimulatedUpstream({ latencyMs: 0 });
    await using c = await cluster(sim.url, { cache_mode: "both", similarity_threshold: 0.8 });
    try {
      // B's index is built (its first request), so A's entry must reach it over the feed.
      assert.equal((await send(c.b, chat("Tell me a fact about octopuses"))).layer, "l3");
      const first = await send(c.a, chat("How do I reset my password?"));
      assert.equal(first.layer, "l3");
      await until(async () => (await stats(c.b)).shared.feed.received >= 1, "the feed");
      const para = await send(c.b, chat("how can i reset my password?"));
      assert.equal(para.layer, "l1b");
      assert.equal(para.text, first.text);
      assert.equal(sim.calls, 2);
      const feed = (await stats(c.b)).shared.feed;
      console.log(`feed lag on B: last ${feed.lag_ms_last} ms, max ${feed.lag_ms_max} ms`);
      assert.equal((await stats(c.b)).shared.entries.l1b, 2);

      // DELETE through A removes the caller's entries on both replicas.
      const del = await fetch(`${c.a.url}/api/v1/cache`, { method: "DELETE" });
      assert.ok((await del.json()).deleted >= 4);
      await until(async () => (await stats(c.b)).l1b.entries === 0, "B's index emptied");
      assert.equal((await send(c.b, chat("How do I reset my password?"))).layer, "l3");
      assert.equal((await send(c.b, chat("how can i reset my password?"))).layer, "l1b");
    } finally {
      await sim.close();
    }
  },
});

Deno.test({
  name: "cluster: 50 concurrent identical misses over both replicas make one upstream call",
  ignore,
  fn: async () => {
    const mock = await startMockUpstream();
    mock.defaultBehaviour = { kind: "delay", ms: 300 };
    await using c = await cluster(`${mock.url}/v1`);
    try {
      const body = chat("One question, fifty clients");
      const all = await Promise.all(
        Array.from({ length: 50 }, (_, i) => send(i % 2 ? c.b : c.a, body)),
      );
      assert.ok(all.every((r) => r.status === 200));
      assert.equal(new Set(all.map((r) => r.text)).size, 1);
      assert.equal(mock.requests.length, 1);
      assert.ok(all.filter((r) => r.layer === "l1a").length >= 1, "the other replica got a hit");
    } finally {
      await mock.close();
    }
  },
});

Deno.test({
  name: "cluster: Redis lost mid-load fails no request; hits resume when it is back",
  ignore,
  fn: async () => {
    const sim = await startSimulatedUpstream({ latencyMs: 0 });
    await using c = await cluster(sim.url, { redis_command_timeout_ms: 100 });
    const redis: TestRedis = c.redis;
    try {
      let failed = 0;
      let done = 0;
      let stop = false;
      const load = (async () => {
        for (let i = 0; !stop; i++) {
          const r = await send(i % 2 ? c.a : c.b, chat(`question ${i % 20}`));
          if (r.status !== 200) failed++;
          done++;
        }
      })();
      await until(() => done >= 40, "load before");
      await redis.stop();
      const atStop = done;
      await until(() => done >= atStop + 40, "load while Redis is down");

      await redis.start();
      await bothAnswering(c.a, c.b, "reconnected");
      const atStart = done;
      await until(() => done >= atStart + 40, "load after");
      stop = true;
      await load;
      assert.equal(failed, 0, `${failed} of ${done} requests failed`);
      // The restarted Redis is empty: a new answer stored through A is a hit on B again.
      assert.equal((await send(c.a, chat("after the outage"))).layer, "l3");
      await until(async () => (await stats(c.a)).shared?.entries?.l1a >= 1, "stored again");
      assert.equal((await send(c.b, chat("after the outage"))).layer, "l1a");
      const metrics = await (await fetch(`${c.a.url}/metrics`)).text();
      assert.match(metrics, /isartor_cache_store_errors_total\{[^}]*\} [1-9]/);
    } finally {
      await sim.close();
    }
  },
});

Deno.test({
  name: "cluster: Redis down at start, then up, then stalled: no request fails, sharing follows",
  ignore,
  fn: async () => {
    const sim = await startSimulatedUpstream({ latencyMs: 0 });
    const redis = await startRedis();
    await redis.stop();
    const config = replicaConfig(sim.url, { redis_url: redis.url, redis_command_timeout_ms: 100 });
    const a = await startGateway(config);
    const b = await startGateway(config);
    try {
      // Down at start: each replica answers from upstream, then from its own memory.
      assert.equal((await health(a)).cache_store.answering, false);
      assert.equal((await send(a, chat("before redis"))).layer, "l3");
      assert.equal((await send(a, chat("before redis"))).layer, "l1a");
      assert.equal((await send(b, chat("before redis"))).layer, "l3");

      await redis.start();
      await bothAnswering(a, b, "both replicas connected once Redis is up");
      assert.equal((await send(a, chat("after redis"))).layer, "l3");
      await until(async () => (await stats(a)).shared?.entries?.l1a === 1, "stored in Redis");
      assert.equal((await send(b, chat("after redis"))).layer, "l1a");

      // Stalled (SIGSTOP: connected, answering nothing): commands time out, requests still answer.
      redis.pause();
      const calls = sim.calls;
      const during = await Promise.all([
        send(a, chat("after redis")), // in A's memory: a hit without Redis
        send(b, chat("while stalled")),
        send(a, chat("while stalled too")),
      ]);
      assert.deepEqual(during.map((r) => r.status), [200, 200, 200]);
      assert.equal(during[0].layer, "l1a");
      assert.equal(sim.calls, calls + 2);
      redis.resume();
      await bothAnswering(a, b, "answering again after the stall");
      const metrics = await (await fetch(`${b.url}/metrics`)).text();
      assert.match(metrics, /isartor_cache_store_errors_total\{[^}]*\} [1-9]/);
    } finally {
      redis.resume();
      await a.close();
      await b.close();
      await redis.close();
      await sim.close();
    }
  },
});

Deno.test({
  name:
    "cluster: on a 3-master Redis Cluster, L1a and L1b are shared and DELETE reaches every master",
  ignore,
  fn: async () => {
    const sim = await startSimulatedUpstream({ latencyMs: 0 });
    const rc = await startRedisCluster();
    const config = replicaConfig(sim.url, {
      cache_mode: "both",
      redis_cluster_nodes: rc.urls.join(","),
      similarity_threshold: 0.8,
    });
    const a = await startGateway(config);
    const b = await startGateway(config);
    try {
      await bothAnswering(a, b, "both replicas connected to the cluster");
      assert.equal((await health(a)).cache_store.backend, "redis cluster");
      assert.equal((await send(b, chat("Tell me a fact about octopuses"))).layer, "l3");
      // Many entries, so the keys spread over the three masters' slots.
      for (let i = 0; i < 12; i++) {
        assert.equal(
          (await send(a, chat(`Which river flows through city number ${i}?`))).layer,
          "l3",
        );
      }
      const first = await send(a, chat("How do I reset my password?"));
      await until(
        async () => (await stats(a)).shared?.entries?.l1a === 14,
        "stored in the cluster",
      );
      const sizes = await Promise.all(rc.nodes.map(async (n) => Number(await n.cli("DBSIZE"))));
      assert.ok(sizes.filter((s) => s > 0).length >= 2, `keys on more than one master: ${sizes}`);
      assert.equal((await send(b, chat("Which river flows through city number 7?"))).layer, "l1a");
      await until(async () => (await stats(b)).shared.feed.received >= 13, "the feed on B");
      const para = await send(b, chat("how can i reset my password?"));
      assert.equal(para.layer, "l1b");
      assert.equal(para.text, first.text);

      const del = await fetch(`${b.url}/api/v1/cache`, { method: "DELETE" });
      assert.equal(del.status, 200);
      await until(async () => (await stats(a)).shared.entries.l1a === 0, "deleted on every master");
      assert.equal((await send(a, chat("Which river flows through city number 7?"))).layer, "l3");
    } finally {
      await a.close();
      await b.close();
      await rc.close();
      await sim.close();
    }
  },
});
