import assert from "node:assert/strict";
import { RedisConnection, redisUrlWithDb } from "../../../src/cache/redis_client.ts";
import { decodeKeyPart, encodeKeyPart, RedisByteStore } from "../../../src/cache/redis_store.ts";
import { RedisCacheFeed } from "../../../src/cache/redis_feed.ts";
import type { CacheEvent } from "../../../src/cache/cache_feed.ts";
import { RedisSharedFlight } from "../../../src/cache/shared_flight.ts";
import { redisAvailable, startRedis } from "../../support/redis_server.ts";

const ignore = !redisAvailable();

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function open(url: string, timeout = 250) {
  const conn = RedisConnection.open({ url, commandTimeoutMs: timeout });
  return { conn, store: new RedisByteStore(conn, "t") };
}

Deno.test("redis store: key parts are percent-encoded without colons, braces or glob characters", () => {
  for (const part of ["a:b", "{x}", "*?[]\\", "openai@https://api.openai.com/v1", "ü é", "%"]) {
    const enc = encodeKeyPart(part);
    assert.ok(!/[:{}*?\[\]\\ ]/.test(enc), enc);
    assert.equal(decodeKeyPart(enc), part);
  }
});

Deno.test({
  name: "redis store: get/set/delete, TTL as expiry, prefixes per tenant, chunks with a generation",
  ignore,
  fn: async () => {
    const redis = await startRedis();
    const { conn, store } = open(redis.url);
    try {
      await until(() => conn.ready, "connect");
      const k = ["l1a", "tenant:a", "openai@https://x/v1", "d1"];
      assert.equal(await store.get(k), null);
      await store.set(k, new Uint8Array([1, 2, 3]), 60_000);
      assert.deepEqual([...(await store.get(k))!], [1, 2, 3]);
      const pttl = Number(await redis.cli("PTTL", `${store.base(k)}:m`));
      assert.ok(pttl > 50_000 && pttl <= 60_000, `ttl ${pttl}`);

      // A large value: chunked, read back whole.
      const big = new Uint8Array(1_300_000).map((_, i) => i % 251);
      const kb = ["l1a", "tenant:a", "p", "big"];
      await store.set(kb, big, 60_000);
      assert.deepEqual(await store.get(kb), big);
      const chunks = (await redis.cli("--scan", "--pattern", `${store.base(kb)}:c:*`)).split("\n");
      assert.equal(chunks.length, 3);
      // Rewritten: the old generation's chunks go, the new value is whole.
      const big2 = big.map((b) => (b + 1) % 256);
      await store.set(kb, big2, 60_000);
      assert.deepEqual(await store.get(kb), big2);
      assert.equal(
        (await redis.cli("--scan", "--pattern", `${store.base(kb)}:c:*`)).split("\n").length,
        3,
      );
      // A half-written entry (a chunk missing) is never served.
      const one = (await redis.cli("--scan", "--pattern", `${store.base(kb)}:c:*`)).split("\n")[0];
      await redis.cli("DEL", one);
      assert.equal(await store.get(kb), null);

      // Tenants are key prefixes: deleting one leaves the other.
      await store.set(["l1a", "tenant:b", "p", "d1"], new Uint8Array([9]), 60_000);
      await store.set(["l1a", "tenant:ab", "p", "d1"], new Uint8Array([9]), 60_000);
      const listed = [];
      for await (const [key] of store.list(["l1a", "tenant:a"])) listed.push(key.join("|"));
      assert.deepEqual(listed, ["l1a|tenant:a|openai@https://x/v1|d1"]);
      assert.equal(await store.count(["l1a"]), 3 + 0 /* big's meta is still there */ + 1);
      assert.equal(await store.deletePrefix(["l1a", "tenant:a"]), 2);
      assert.equal(await store.get(k), null);
      assert.ok(await store.get(["l1a", "tenant:b", "p", "d1"]));
      assert.ok(
        await store.get(["l1a", "tenant:ab", "p", "d1"]),
        "tenant:ab is not under tenant:a",
      );
      // The exact key itself is a prefix too.
      assert.equal(await store.deletePrefix(["l1a", "tenant:b", "p", "d1"]), 1);

      // Expiry: a short TTL is gone.
      await store.set(["l1a", "x", "p", "short"], new Uint8Array([1]), 30);
      await until(async () => (await store.get(["l1a", "x", "p", "short"])) === null, "expiry");
    } finally {
      await store.close();
      await redis.close();
    }
  },
});

Deno.test({
  name: "redis store: down, slow and back again: commands fail fast, then work",
  ignore,
  fn: async () => {
    const redis = await startRedis();
    const { conn, store } = open(redis.url, 100);
    try {
      await until(() => conn.ready, "connect");
      await store.set(["a"], new Uint8Array([1]), 60_000);
      await redis.stop();
      await until(() => !conn.ready, "disconnect");
      await assert.rejects(store.get(["a"]), /not connected/, "no waiting for a connection");
      await redis.start();
      await until(() => conn.ready, "reconnect");
      await store.set(["a"], new Uint8Array([2]), 60_000);
      assert.deepEqual([...(await store.get(["a"]))!], [2]);
      // Slow: a frozen server answers nothing within the command timeout.
      redis.pause();
      await assert.rejects(store.get(["a"]), /timed out/);
      await assert.rejects(store.get(["a"]), /slow/, "skipped for a second after a timeout");
      redis.resume();
      await until(() => conn.ready, "the slow spell ends");
      assert.ok(await store.get(["a"]));
    } finally {
      await store.close();
      await redis.close();
    }
  },
});

Deno.test({
  name: "redis feed: another replica's events arrive, one's own do not; lag is measured",
  ignore,
  fn: async () => {
    const redis = await startRedis();
    const a = open(redis.url);
    const b = open(redis.url);
    const fa = new RedisCacheFeed(a.conn, a.store.base(["events"]));
    const fb = new RedisCacheFeed(b.conn, b.store.base(["events"]));
    try {
      await until(() => a.conn.ready && b.conn.ready, "connect");
      const gotA: CacheEvent[] = [];
      const gotB: CacheEvent[] = [];
      fa.subscribe((e) => gotA.push(e));
      fb.subscribe((e) => gotB.push(e));
      await new Promise((r) => setTimeout(r, 200));
      fa.publish({ type: "put", key: ["l1b", "t", "p", "d", "id"], value: new Uint8Array([7, 8]) });
      fa.publish({ type: "delete", prefix: ["l1a", "t"] });
      await until(() => gotB.length === 2, "events on b");
      assert.deepEqual(gotB[0], {
        type: "put",
        key: ["l1b", "t", "p", "d", "id"],
        value: new Uint8Array([7, 8]),
      });
      assert.deepEqual(gotB[1], { type: "delete", prefix: ["l1a", "t"] });
      assert.equal(gotA.length, 0);
      const s = fb.stats();
      assert.equal(s.received, 2);
      assert.ok(s.lag_ms_max !== null && s.lag_ms_max >= 0);
    } finally {
      await fa.close();
      await fb.close();
      await a.store.close();
      await b.store.close();
      await redis.close();
    }
  },
});

Deno.test({
  name: "shared flight: one leader; waiters get its stored answer, or lead when it fails",
  ignore,
  fn: async () => {
    const redis = await startRedis();
    const { conn, store } = open(redis.url);
    const flight = new RedisSharedFlight(conn, 5000, (k) => store.base(["lock", ...k]));
    try {
      await until(() => conn.ready, "connect");
      const key = ["l1a", "t", "p", "d"];
      const stored = async () => (await store.get(key)) ? "answer" : null;
      const signal = new AbortController().signal;
      const first = await flight.claim(key, stored, signal);
      assert.equal(first.kind, "lead");
      const waiting = flight.claim(key, stored, signal);
      await new Promise((r) => setTimeout(r, 50));
      await store.set(key, new Uint8Array([1]), 60_000);
      if (first.kind === "lead") first.release();
      assert.deepEqual(await waiting, { kind: "answer", value: "answer" });

      // The leader fails (releases without an answer): the waiter leads.
      const k2 = ["l1a", "t", "p", "d2"];
      const stored2 = async () => (await store.get(k2)) ? "x" : null;
      const lead2 = await flight.claim(k2, stored2, signal);
      const wait2 = flight.claim(k2, stored2, signal);
      await new Promise((r) => setTimeout(r, 50));
      if (lead2.kind === "lead") lead2.release();
      assert.equal((await wait2).kind, "lead");

      // Redis away: alone, at once.
      await redis.stop();
      await until(() => !conn.ready, "disconnect");
      assert.equal((await flight.claim(["l1a", "z"], stored, signal)).kind, "alone");
    } finally {
      await store.close();
      await redis.close();
    }
  },
});

Deno.test("redis url: redis_db fills in a URL that names no database, a /db path wins", () => {
  assert.equal(redisUrlWithDb("redis://127.0.0.1:6379", 3), "redis://127.0.0.1:6379/3");
  assert.equal(redisUrlWithDb("redis://u:p@127.0.0.1:6379/", 3), "redis://u:p@127.0.0.1:6379/3");
  assert.equal(redisUrlWithDb("rediss://127.0.0.1:6379/1", 3), "rediss://127.0.0.1:6379/1");
  assert.equal(redisUrlWithDb("redis://127.0.0.1:6379", 0), "redis://127.0.0.1:6379");
});

Deno.test({
  name: "redis store: a user and password from the URL, and its database number",
  ignore,
  fn: async () => {
    const redis = await startRedis([
      "--user",
      "default",
      "off",
      "--user",
      "gateway",
      "on",
      ">s3cret",
      "~*",
      "&*",
      "+@all",
    ]);
    const wrong = open(`redis://gateway:nope@127.0.0.1:${redis.port}`);
    const { conn, store } = open(
      redisUrlWithDb(`redis://gateway:s3cret@127.0.0.1:${redis.port}`, 2),
    );
    try {
      await until(() => conn.ready, "connect with the right password");
      await store.set(["l1a", "t", "p", "d"], new Uint8Array([7]), 60_000);
      const cli = (...a: string[]) => redis.cli("--user", "gateway", "--pass", "s3cret", ...a);
      assert.equal(await cli("-n", "2", "DBSIZE"), "1");
      assert.equal(await cli("-n", "0", "DBSIZE"), "0");
      assert.equal(wrong.conn.ready, false, "a wrong password never connects");
      await assert.rejects(() => wrong.store.get(["l1a", "t", "p", "d"]));
    } finally {
      await wrong.store.close();
      await store.close();
      await redis.close();
    }
  },
});
