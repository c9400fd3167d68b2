import assert from "node:assert/strict";
import { compatLayer, endpointFamily, Histogram, Metrics } from "../../../src/telemetry/metrics.ts";
import { clientLabel } from "../../../src/telemetry/client_tools.ts";

Deno.test("metrics: a histogram renders cumulative buckets, +Inf, sum and count", () => {
  const h = new Histogram("t_seconds", "test", [0.1, 1]);
  for (const v of [0.05, 0.1, 0.5, 3]) h.observe(v, { layer: "l3" });
  assert.equal(
    h.render(),
    [
      "# HELP t_seconds test",
      "# TYPE t_seconds histogram",
      't_seconds_bucket{layer="l3",le="0.1"} 2',
      't_seconds_bucket{layer="l3",le="1"} 3',
      't_seconds_bucket{layer="l3",le="+Inf"} 4',
      't_seconds_sum{layer="l3"} 3.65',
      't_seconds_count{layer="l3"} 4',
    ].join("\n"),
  );
});

Deno.test("metrics: a finished request counts once, with the compatible labels; savings only when deflected", () => {
  const m = new Metrics();
  const hit = {
    layer: "l1a",
    route: "anthropic",
    tool: "Claude Code",
    status: 200,
    latencyMs: 0.5,
    inputTokens: 100,
    outputTokens: 20,
  };
  m.record(hit, 0.0006);
  m.record(hit, 0.0006); // the same shape: the same series
  m.record({ ...hit, layer: "l3", tool: "Some X-Title App" }, 0);
  m.record({ ...hit, layer: "l1b", status: 500 }, 0); // an error saves nothing
  const requests = {
    layer: "l1a",
    final_layer: "L1a_ExactCache",
    route: "anthropic",
    endpoint_family: "anthropic",
    status: "200",
    status_code: "200",
    client: "claude_code",
  };
  assert.equal(m.requests.get(requests), 2);
  assert.equal(
    m.requests.get({ ...requests, layer: "l3", final_layer: "L3_Cloud", client: "other" }),
    1,
  );
  const saved = {
    layer: "l1a",
    final_layer: "L1a_ExactCache",
    endpoint_family: "anthropic",
    client: "claude_code",
  };
  assert.equal(m.tokensSaved.get({ ...saved, direction: "input" }), 200);
  assert.equal(m.tokensSaved.get({ ...saved, direction: "output" }), 40);
  assert.equal(m.costSaved.get(saved), 0.0012);
  assert.equal(m.tokensSaved.values.size, 2, "L3 and the failed L1b saved nothing");
  const text = m.render();
  assert.match(text, /isartor_request_duration_seconds_count\{[^}]*layer="l1a"[^}]*\} 2/);
  assert.ok(!text.includes("X-Title"));
});

Deno.test("metrics: the pipeline's timer fills the layer histogram", () => {
  const m = new Metrics();
  m.observeLayer("l1a", "passed", 0.00004);
  m.observeLayer("l3", "answered", 0.2);
  const text = m.render();
  assert.match(
    text,
    /isartor_layer_duration_seconds_count\{layer="l1a",layer_name="L1a_ExactCache",outcome="passed"\} 1/,
  );
  assert.match(
    text,
    /isartor_layer_duration_seconds_bucket\{layer="l3",layer_name="L3_Cloud",outcome="answered",le="0.25"\} 1/,
  );
});

Deno.test("metrics: label values come from bounded sets", () => {
  assert.equal(compatLayer("gateway"), "L0_AuthBlocked");
  assert.equal(compatLayer("l2"), "L2_SLM");
  assert.equal(compatLayer("nonsense"), "other");
  assert.equal(endpointFamily("openai_responses"), "openai");
  assert.equal(endpointFamily("native"), "native");
  assert.equal(endpointFamily("gemini"), "gemini");
  assert.equal(clientLabel("OpenAI SDK (Python)"), "openai_sdk_python");
  assert.equal(clientLabel("unknown"), "unknown");
  assert.equal(clientLabel("Roo Code"), "other");
});
