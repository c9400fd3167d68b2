// Cluster mode on real servers: two `isartor up` processes on their own ports sharing one real
// redis-server: L1a and L1b across replicas, single-flight across replicas, a replica's restart,
// deletion, Redis killed mid-load. In-process gateways cover Redis down at start or stalled,
// and a 3-master Redis Cluster.
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import { gatewayPermissionFlags, redisHosts } from "../../cli/permissions.ts";
import { startSimulatedUpstream } from "../../cli/demo_upstream.ts";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startGateway } from "../support/gateway_harness.ts";
import { startGatewayProcess } from "../support/gateway_process.ts";
import { until as waitFor } from "../support/cli_runner.ts";
import { redisAvailable, startRedis, startRedisCluster } from "../support/redis_server.ts";

const ignore = !redisAvailable();
const MODEL = "gpt-4o-mini";

function chat(content: string) {
  return { model: MODEL, temperature: 0, messages: [{ role: "user", content }] };
}

/** A gateway to talk to: in this process or its own. */
type Replica = { url: string };

async function send(gw: Replica, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, layer: res.headers.get("x-isartor-layer"), text };
}

/** Waits for `cond`, generously: replicas are processes on a loaded box. */
function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  return waitFor(cond, 20_000, what);
}

async function health(gw: Replica) {
  return await (await fetch(`${gw.url}/health`)).json();
}

/** Waits until both replicas' store answers (connected, not in a slow spell). */
async function bothAnswering(a: Replica, b: Replica, what: string): Promise<void> {
  await until(
    async () => (await health(a)).cache_store.answering && (await health(b)).cache_store.answering,
    what,
  );
}

async function stats(gw: Replica) {
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

/** The store-error lines of the replicas' metrics (for an assertion's message). */
async function storeErrors(...replicas: Replica[]): Promise<string> {
  const texts = await Promise.all(
    replicas.map(async (r) => (await fetch(`${r.url}/metrics`)).text()),
  );
  return texts.map((t) => t.split("\n").filter((l) => l.startsWith("isartor_cache_store_errors")))
    .join(" | ");
}

/** The last user turn of an OpenAI Chat body. */
function lastUser(body: Record<string, unknown>): string {
  const messages = body.messages as { role: string; content: string }[];
  return messages.findLast((m) => m.role === "user")?.content ?? "";
}

/** The mock's answer names its question, so a wrong answer from a cache shows. */
const answerFor = (body: Record<string, unknown>) => ({ text: `answer to: ${lastUser(body)}` });

/** Two `isartor up` processes on one real Redis, before one mock provider; A can be restarted. */
async function processCluster() {
  const mock = await startMockUpstream({ answerFor });
  const redis = await startRedis();
  const config = replicaConfig(`${mock.url}/v1`, {
    redis_url: redis.url,
    cache_mode: "both",
    similarity_threshold: 0.8,
    // A slow reply on a loaded CI box must not count as a Redis fault (that would be a second
    // upstream call); a stalled Redis is the in-process test's, a killed one fails at once.
    redis_command_timeout_ms: 2_000,
  });
  const started = await Promise.allSettled([
    startGatewayProcess(config),
    startGatewayProcess(config),
  ]);
  const up = started.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
  if (up.length < 2) {
    for (const p of up) await p.stop();
    await redis.close();
    await mock.close();
    throw (started.find((s) => s.status === "rejected") as PromiseRejectedResult).reason;
  }
  const c = {
    mock,
    redis,
    a: up[0],
    b: up[1],
    /** Stops A and starts a new process on its port (an empty memory: only Redis remembers). */
    async restartA() {
      await c.a.stop();
      c.a = await startGatewayProcess(config, { port: c.a.port });
      await bothAnswering(c.a, c.b, "the restarted replica connected");
    },
    async [Symbol.asyncDispose]() {
      await c.a.stop();
      await c.b.stop();
      await redis.close();
      await mock.close();
    },
  };
  try {
    await bothAnswering(c.a, c.b, "both replicas connected");
  } catch (e) {
    await c[Symbol.asyncDispose]();
    throw e;
  }
  return c;
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
  name: "cluster: two `isartor up` processes on one Redis share L1a, L1b, single-flight, restarts",
  ignore,
  fn: async (t) => {
    await using c = await processCluster();
    const calls = () => c.mock.requests.length;

    await t.step("an answer stored through A is an L1a hit on B", async () => {
      const first = await send(c.a, chat("What is the capital of France?"));
      assert.equal(first.layer, "l3");
      assert.match(first.text, /answer to: What is the capital of France\?/);
      await until(async () => (await stats(c.a)).shared?.entries?.l1a === 1, "stored in Redis");
      const onB = await send(c.b, chat("What is the capital of France?"));
      assert.equal(onB.layer, "l1a");
      assert.equal(onB.text, first.text);
      assert.equal(calls(), 1);
      const h = await health(c.b);
      assert.equal(h.cache_store.backend, "redis");
      assert.match(h.layers.l1a, /memory\+redis/);
    });

    await t.step("a paraphrase through B is an L1b hit for an entry A stored", async () => {
      // B's index is built (it served a request), so A's entry reaches it over the feed.
      const received = (await stats(c.b)).shared.feed.received;
      const first = await send(c.a, chat("How do I reset my password?"));
      assert.equal(first.layer, "l3");
      await until(async () => (await stats(c.b)).shared.feed.received > received, "the feed");
      const para = await send(c.b, chat("how can i reset my password?"));
      assert.equal(para.layer, "l1b");
      assert.equal(para.text, first.text);
      assert.equal(calls(), 2);
      const feed = (await stats(c.b)).shared.feed;
      console.log(`feed lag on B: last ${feed.lag_ms_last} ms, max ${feed.lag_ms_max} ms`);
    });

    await t.step(
      "50 concurrent identical misses over both replicas make 1 upstream call",
      async () => {
        c.mock.defaultBehaviour = { kind: "delay", ms: 300 };
        const before = calls();
        const body = chat("One question, fifty clients");
        const all = await Promise.all(
          Array.from({ length: 50 }, (_, i) => send(i % 2 ? c.b : c.a, body)),
        );
        c.mock.defaultBehaviour = { kind: "ok" };
        assert.deepEqual(new Set(all.map((r) => r.status)), new Set([200]));
        assert.deepEqual(new Set(all.map((r) => r.text)).size, 1);
        assert.match(all[0].text, /answer to: One question, fifty clients/);
        const layers = all.map((r) => r.layer);
        assert.equal(calls() - before, 1, `layers ${layers}; ${await storeErrors(c.a, c.b)}`);
        assert.equal(layers.filter((l) => l === "l3").length, 1);
        const hits = layers.filter((l) => l === "l1a").length;
        console.log(`50 concurrent misses: ${calls() - before} upstream call, ${hits} L1a hits`);
      },
    );

    await t.step("a restarted replica A keeps the shared entries (L1a and L1b)", async () => {
      await c.restartA();
      const before = calls();
      const exact = await send(c.a, chat("What is the capital of France?"));
      assert.equal(exact.layer, "l1a");
      assert.match(exact.text, /answer to: What is the capital of France\?/);
      // The index is loaded from Redis at start, not from A's (gone) memory.
      const para = await send(c.a, chat("how can i reset my password?"));
      assert.equal(para.layer, "l1b");
      assert.match(para.text, /answer to: How do I reset my password\?/);
      assert.equal(calls(), before);
    });

    await t.step("DELETE through A removes the caller's entries on both replicas", async () => {
      const del = await fetch(`${c.a.url}/api/v1/cache`, { method: "DELETE" });
      assert.ok((await del.json()).deleted >= 4);
      await until(async () => (await stats(c.b)).l1b.entries === 0, "B's index emptied");
      assert.equal((await send(c.b, chat("How do I reset my password?"))).layer, "l3");
      assert.equal((await send(c.b, chat("how can i reset my password?"))).layer, "l1b");
    });

    await t.step(
      "Redis killed mid-load fails no request; hits resume when it is back",
      async () => {
        const before = calls();
        let done = 0;
        let next = 0;
        const failures: string[] = [];
        let stop = false;
        // Four clients; request n goes to replica n % 2 and asks question n / 3, so each question
        // is a miss once and then a hit, from memory or across replicas, all through the outage.
        const clients = Array.from({ length: 4 }, async () => {
          while (!stop) {
            const n = next++;
            const q = `load question ${Math.floor(n / 3)}`;
            try {
              const r = await send(n % 2 ? c.a : c.b, chat(q));
              if (r.status !== 200 || !r.text.includes(`answer to: ${q}`)) {
                failures.push(`${r.status} ${r.layer} ${r.text.slice(0, 120)}`);
              }
            } catch (e) {
              failures.push(String(e));
            }
            done++;
          }
        });
        await until(() => done >= 40, "load before the outage");
        await c.redis.stop(); // SIGKILL
        const [atStop, callsAtStop] = [done, calls()];
        await until(() => done >= atStop + 60, "load while Redis is down");
        const [whileDown, callsWhileDown] = [done - atStop, calls() - callsAtStop];

        await c.redis.start(); // same port, empty
        const restarted = Date.now();
        // Hits resume: an answer stored through A is a hit on B again.
        let resumedAfter = -1;
        for (let k = 0; resumedAfter < 0; k++) {
          if (Date.now() - restarted > 30_000) throw new Error("no shared hit within 30 s");
          await send(c.a, chat(`after the outage ${k}`));
          await new Promise((r) => setTimeout(r, 50));
          if ((await send(c.b, chat(`after the outage ${k}`))).layer === "l1a") {
            resumedAfter = Date.now() - restarted;
          }
        }
        const atResume = done;
        await until(() => done >= atResume + 40, "load after the outage");
        stop = true;
        await Promise.all(clients);
        assert.deepEqual(failures, [], `${failures.length} of ${done} requests failed`);
        const metrics = await (await fetch(`${c.a.url}/metrics`)).text();
        assert.match(metrics, /isartor_cache_store_errors_total\{[^}]*\} [1-9]/);
        console.log(
          `Redis outage: ${done} requests (${whileDown} while down, ${callsWhileDown} of them ` +
            `upstream), ${failures.length} failed, ${calls() - before} upstream calls in all; ` +
            `shared hits resumed ${resumedAfter} ms after Redis restarted`,
        );
      },
    );
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
