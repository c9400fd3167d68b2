// Stats count requests per layer, tool and provider, price the savings, and survive restarts.
import assert from "node:assert/strict";
import { costUsd, resolvePrices } from "../../../src/telemetry/prices.ts";
import {
  parseSnapshot,
  RECENT_LIMIT,
  type RequestRecord,
  Stats,
} from "../../../src/telemetry/stats.ts";

const prices = resolvePrices({ openai_compatible: { input_per_mtok: 2, output_per_mtok: 8 } });

function rec(over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    time: Date.UTC(2025, 0, 1),
    tool: "Claude Code",
    route: "anthropic",
    model: "claude-sonnet-4-5",
    layer: "l3",
    status: 200,
    latencyMs: 800,
    provider: "anthropic",
    stream: true,
    inputTokens: 1000,
    outputTokens: 100,
    ...over,
  };
}

Deno.test("stats: spent and saved tokens, deflection and estimated cost", () => {
  const stats = new Stats({ prices });
  stats.record(rec());
  stats.record(rec({ layer: "l1a", latencyMs: 1 }));
  stats.record(rec({ layer: "l1b", tool: "Codex", provider: "openai_compatible", latencyMs: 20 }));
  stats.record(
    rec({ layer: "gateway", status: 502, inputTokens: undefined, outputTokens: undefined }),
  );
  const r = stats.report();
  assert.equal(r.totals.requests, 4);
  assert.equal(r.totals.errors, 1);
  assert.equal(r.totals.deflected, 2);
  assert.equal(r.deflection_rate, 0.5);
  assert.equal(r.totals.input_tokens, 1000);
  assert.equal(r.totals.saved_input_tokens, 2000);
  assert.equal(r.totals.saved_output_tokens, 200);
  // Anthropic's built-in estimate (3/15) plus the configured price (2/8).
  const want = (1000 * 3 + 100 * 15 + 1000 * 2 + 100 * 8) / 1e6;
  assert.ok(Math.abs(r.totals.saved_cost_usd - want) < 1e-12);
  assert.equal(r.layers.l1a.requests, 1);
  assert.equal(r.layers.l3.deflected, 0);
  assert.equal(r.tools["Claude Code"].requests, 3);
  assert.equal(r.tools.Codex.deflected, 1);
  assert.equal(r.providers.openai_compatible.saved_input_tokens, 1000);
  assert.equal(r.prices.anthropic.source, "built-in estimate");
  assert.equal(r.prices.openai_compatible.source, "config");
  assert.deepEqual(r.unpriced_providers, []);
  assert.equal(r.recent.length, 4);
  assert.equal(r.recent[1].deflected, true);
  assert.equal(r.recent[3].input_tokens, null);
});

Deno.test("stats: providers without a price are listed; the ring keeps the last requests", () => {
  const stats = new Stats({ prices });
  for (let i = 0; i < RECENT_LIMIT + 5; i++) {
    stats.record(rec({ provider: "mystery", layer: "l1a", model: `m${i}` }));
  }
  const r = stats.report();
  assert.deepEqual(r.unpriced_providers, ["mystery"]);
  assert.equal(r.totals.saved_cost_usd, 0);
  assert.equal(r.recent.length, RECENT_LIMIT);
  assert.equal(r.recent.at(-1)!.model, `m${RECENT_LIMIT + 4}`);
});

Deno.test("stats: cached prompt tokens are priced at the cached rate", () => {
  const price = { input_per_mtok: 4, output_per_mtok: 0 };
  assert.equal(costUsd(price, 1_000_000, 0, 1_000_000), 1);
  assert.equal(costUsd({ ...price, cached_input_per_mtok: 0.4 }, 1_000_000, 0, 500_000), 2.2);
});

Deno.test("stats: persist on close, load at start, tolerate a broken file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "isartor-stats-" });
  try {
    const path = `${dir}/stats.json`;
    const warnings: string[] = [];
    const first = new Stats({ prices, path, warn: (m) => warnings.push(m) });
    first.record(rec());
    first.record(rec({ layer: "l1a" }));
    await first.close();
    const second = new Stats({ prices, path });
    const r = second.report();
    assert.equal(r.totals.requests, 2);
    assert.equal(r.layers.l1a.deflected, 1);
    assert.equal(r.recent.length, 2);
    second.record(rec());
    await second.close();
    assert.equal(JSON.parse(await Deno.readTextFile(path)).totals.requests, 3);

    await Deno.writeTextFile(path, "{not json");
    const third = new Stats({ prices, path, warn: (m) => warnings.push(m) });
    assert.equal(third.report().totals.requests, 0);
    assert.match(warnings.join("\n"), /not valid JSON/);
    await third.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stats: the background writer saves soon after a change", async () => {
  const dir = await Deno.makeTempDir({ prefix: "isartor-stats-" });
  try {
    const path = `${dir}/stats.json`;
    const stats = new Stats({ prices, path, saveDelayMs: 20 });
    stats.record(rec());
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(JSON.parse(await Deno.readTextFile(path)).totals.requests, 1);
    await stats.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stats: a snapshot with wrong types falls back to zeros", () => {
  const s = parseSnapshot(
    { totals: { requests: "many", errors: -1, deflected: 3 }, recent: [{}] },
    0,
  );
  assert.equal(s.totals.requests, 0);
  assert.equal(s.totals.errors, 0);
  assert.equal(s.totals.deflected, 3);
  assert.deepEqual(s.recent, []);
});
