import assert from "node:assert/strict";
import { health, upstreamOutcomes } from "../../../cli/providers.ts";
import { Metrics } from "../../../src/telemetry/metrics.ts";

Deno.test("providers: call outcomes are read from the gateway's real /metrics text", () => {
  const metrics = new Metrics();
  metrics.upstreamAttempts.inc({ provider: "groq", outcome: "ok" }, 3);
  metrics.upstreamAttempts.inc({ provider: "groq", outcome: "429" });
  metrics.upstreamAttempts.inc({ provider: "openai", outcome: "timeout" }, 2);
  const outcomes = upstreamOutcomes(metrics.render());
  assert.deepEqual(outcomes, { groq: { ok: 3, "429": 1 }, openai: { timeout: 2 } });
  assert.equal(health(outcomes.groq), "mixed");
  assert.equal(health(outcomes.openai), "failing");
  assert.equal(health({ ok: 1 }), "ok");
  assert.equal(health(undefined), "no calls yet");
});
