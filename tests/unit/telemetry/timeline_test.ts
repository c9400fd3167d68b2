import assert from "node:assert/strict";
import { Timeline } from "../../../src/telemetry/timeline.ts";
import { resolvePrices } from "../../../src/telemetry/prices.ts";
import type { RequestRecord } from "../../../src/telemetry/stats.ts";

const T0 = Date.parse("2026-12-07T12:00:00Z");

function rec(offsetMs: number, layer: string, status = 200): RequestRecord {
  return {
    time: T0 + offsetMs,
    tool: "curl",
    route: "openai_chat",
    model: "m",
    layer,
    status,
    latencyMs: 2,
    provider: "groq",
    stream: false,
    inputTokens: 1000,
    outputTokens: 100,
  };
}

Deno.test("timeline: requests per layer and savings land in their minute; empty minutes are kept", () => {
  let now = T0 + 3 * 60_000;
  const tl = new Timeline(resolvePrices({}), () => now);
  tl.record(rec(1_000, "l3"));
  tl.record(rec(2_000, "l1a"));
  tl.record(rec(2 * 60_000 + 5, "l1a"));
  tl.record(rec(2 * 60_000 + 6, "gateway", 400));
  const w = tl.window(4);
  assert.equal(w.length, 4);
  assert.deepEqual(w.map((b) => b.t), [0, 1, 2, 3].map((m) => T0 + m * 60_000));
  assert.deepEqual(w[0].layers, { l3: 1, l1a: 1 });
  assert.equal(w[0].saved_tokens, 1100);
  assert.ok(w[0].saved_cost_usd > 0);
  assert.deepEqual(w[1].layers, {});
  assert.equal(w[2].errors, 1);
  // A day later, the old minutes are gone.
  now += 2 * 86_400_000;
  tl.record({ ...rec(0, "l1a"), time: now });
  assert.deepEqual(tl.window(1440).filter((b) => Object.keys(b.layers).length).length, 1);
});

Deno.test("timeline: a tenant's window holds only its own requests; the gateway's holds all", () => {
  const now = T0 + 60_000;
  const tl = new Timeline(resolvePrices({}), () => now);
  tl.record({ ...rec(1_000, "l1a"), tenant: "acme" });
  tl.record({ ...rec(2_000, "l3"), tenant: "beta" });
  tl.record({ ...rec(3_000, "gateway", 401), tenant: "" });
  assert.deepEqual(tl.window(2, "acme")[0].layers, { l1a: 1 });
  assert.deepEqual(tl.window(2, "beta")[0].layers, { l3: 1 });
  assert.deepEqual(tl.window(2, "nobody")[0].layers, {});
  assert.deepEqual(tl.window(2)[0].layers, { l1a: 1, l3: 1, gateway: 1 });
});
