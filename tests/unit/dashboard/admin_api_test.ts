import assert from "node:assert/strict";
import { configReport, maskSecret, providersReport } from "../../../src/dashboard/admin_api.ts";
import { parseConfig } from "../../../src/config/load.ts";
import { buildTargets } from "../../../src/providers/targets.ts";
import { Metrics } from "../../../src/telemetry/metrics.ts";

Deno.test("dashboard API: config values are masked wherever a secret sits, origins kept", () => {
  const config = parseConfig({
    gateway_api_key: "gw-0123456789abcdefXYZW",
    external_llm_api_key: "sk-short",
    provider_keys: [{ key: "sk-pool-0123456789abcd" }],
    fallback_providers: [{ provider: "groq", api_key: "gsk_0123456789abcdef9999" }],
  });
  const report = configReport(config, { gateway_api_key: "environment ISARTOR__GATEWAY_API_KEY" });
  const text = JSON.stringify(report);
  for (const secret of ["gw-0123456789", "sk-short", "sk-pool-0123", "gsk_0123456789"]) {
    assert.ok(!text.includes(secret), `${secret} leaked`);
  }
  const values = report.values as Record<string, unknown>;
  assert.equal(values.gateway_api_key, "••••XYZW");
  assert.equal(values.external_llm_api_key, "••••");
  assert.equal(report.origins.gateway_api_key, "environment ISARTOR__GATEWAY_API_KEY");
  assert.equal(report.origins.l3_timeout_secs, "default");
  assert.equal(maskSecret(""), "");
});

Deno.test("dashboard API: the provider chain shows outcomes, cooldowns and masked keys", () => {
  const config = parseConfig({
    llm_provider: "groq",
    provider_keys: [{ key: "gsk_aaaaaaaaaaaaaaaa1111", label: "a" }, {
      key: "gsk_bbbbbbbbbbbbbbbb2222",
      label: "b",
    }],
    fallback_providers: [{ provider: "openai", api_key: "sk-cccccccccccccccc3333" }],
  });
  const targets = buildTargets(config);
  targets[0].keys.coolDown("gsk_bbbbbbbbbbbbbbbb2222", 60_000);
  const metrics = new Metrics();
  metrics.upstreamAttempts.inc({ provider: "groq", outcome: "429" }, 2);
  metrics.upstreamAttempts.inc({ provider: "openai", outcome: "ok" });
  metrics.fallbacks.inc({ to: "openai" });
  const { chain } = providersReport(targets, metrics.upstreamAttempts, metrics.fallbacks);
  assert.equal(chain[0].health, "failing");
  assert.equal(chain[1].health, "ok");
  assert.equal(chain[1].fallbacks_to_here, 1);
  assert.deepEqual(chain[0].keys.map((k) => k.key), ["••••1111", "••••2222"]);
  assert.equal(chain[0].keys[0].cooling_until, null);
  assert.ok(chain[0].keys[1].cooling_until);
});
