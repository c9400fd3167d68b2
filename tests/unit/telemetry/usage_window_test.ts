import assert from "node:assert/strict";
import { usageReport, windowMs } from "../../../src/telemetry/usage_window.ts";
import { resolvePrices } from "../../../src/telemetry/prices.ts";
import type { RequestLogLine } from "../../../src/telemetry/request_log.ts";

const NOW = Date.parse("2026-12-07T12:00:00Z");

function line(hoursAgo: number, over: Partial<RequestLogLine> = {}): RequestLogLine {
  return {
    time: new Date(NOW - hoursAgo * 3_600_000).toISOString(),
    request_id: crypto.randomUUID(),
    tool: "curl",
    route: "openai_chat",
    model: "llama-3.3-70b-versatile",
    layer: "l3",
    status: 200,
    latency_ms: 100,
    provider: "groq",
    stream: false,
    input_tokens: 1_000_000,
    output_tokens: 100_000,
    ...over,
  };
}

Deno.test("usage window: 24h, 7d, 30d and Nh/Nd parse; anything else is refused", () => {
  assert.equal(windowMs("24h"), 86_400_000);
  assert.equal(windowMs("7d"), 7 * 86_400_000);
  assert.equal(windowMs("30d"), 30 * 86_400_000);
  assert.equal(windowMs("0d"), null);
  assert.equal(windowMs("1w"), null);
});

Deno.test("usage window: tokens and cost by provider and model, only inside the window", () => {
  const report = usageReport(
    [
      line(1),
      line(2, { layer: "l1a", input_tokens: null, output_tokens: null }),
      line(3, { provider: "openai", model: "gpt-4o-mini", input_tokens: 10, output_tokens: 5 }),
      line(30), // outside 24h
      line(4, { status: 429 }), // a failed call spends nothing
    ],
    "24h",
    NOW - 86_400_000,
    resolvePrices({}),
  );
  const groq = report.rows.find((r) => r.provider === "groq")!;
  assert.equal(groq.requests, 1);
  assert.equal(groq.answered_locally, 1);
  assert.equal(groq.input_tokens, 1_000_000);
  assert.ok(Math.abs(groq.cost_usd! - 0.669) < 1e-9, String(groq.cost_usd));
  assert.equal(report.totals.requests, 2);
  assert.equal(report.log_starts, new Date(NOW - 30 * 3_600_000).toISOString());
});
