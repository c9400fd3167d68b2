/**
 * Prometheus metrics on a running gateway: `promtool check metrics` on a real
 * /metrics after an L1a hit, an L1b hit, an L3 call and a refused request;
 * the names dashboards already use, with bounded labels; the Grafana dashboard
 * under deploy/ asks only for what the gateway exposes; `POST /api/chat` is
 * counted once, like every other route.
 */

import assert from "node:assert/strict";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startGateway } from "../support/gateway_harness.ts";
import { promtool, skipPromtool } from "../support/promtool.ts";
import { prometheusPath, startPrometheus } from "../support/prometheus.ts";
import { skipWithout } from "../support/system_tool.ts";
import {
  expandGrafanaVars,
  type Exposition,
  isExposed,
  namesOf,
  parseExposition,
} from "../support/promql.ts";

const CLAUDE = "claude-cli/2.1.0 (external, cli)";

/**
 * A gateway that has seen an L3 call, an L1a hit, an L1b hit, a refused
 * request and a fallback (so every family has samples to read labels from).
 */
async function servedGateway() {
  const mock = await startMockUpstream();
  // `openai` has a built-in price, so the savings have a cost too.
  const gw = await startGateway({
    llm_provider: "openai",
    external_llm_url: `${mock.url}/v1`,
    external_llm_api_key: "sk-provider",
    cache_mode: "both",
    cache_backend: "memory",
    embedding_backend: "none",
    l3_max_retries: 0,
    fallback_providers: [{ provider: "groq", url: `${mock.url}/v1`, api_key: "gsk-fallback" }],
  });
  const ask = async (content: string, headers: Record<string, string>) => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content }] }),
    });
    await res.text();
    return res.headers.get("x-isartor-layer");
  };
  assert.equal(await ask("What is the capital of France?", { "user-agent": CLAUDE }), "l3");
  assert.equal(await ask("What is the capital of France?", { "user-agent": CLAUDE }), "l1a");
  // An app name from X-Title is not a bounded label value: it counts as "other".
  const other = { "user-agent": "my-app/1.0", "x-title": "Some App Name" };
  assert.equal(await ask("what is the capital of france", other), "l1b");
  const refused = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "text/plain", "user-agent": "curl/8.5.0" },
    body: "hi",
  });
  await refused.text();
  assert.equal(refused.headers.get("x-isartor-layer"), "gateway");
  mock.enqueue({ kind: "error", status: 503 });
  assert.equal(await ask("Another question", { "user-agent": "OpenAI/Python 1.54.0" }), "l3");
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  return {
    text,
    url: gw.url,
    async close() {
      await gw.close();
      await mock.close();
    },
  };
}

/** The value of the one sample of `name` whose labels include all of `labels`. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const found = text.split("\n").filter((line) => {
    if (!line.startsWith(`${name}{`)) return false;
    return Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
  });
  assert.equal(found.length, 1, `one ${name} sample with ${JSON.stringify(labels)}:\n${found}`);
  return Number(found[0].slice(found[0].lastIndexOf(" ") + 1));
}

Deno.test("metrics: the dashboards' names, bounded labels, savings with a cost", async () => {
  const served = await servedGateway();
  try {
    const { text } = served;
    const req = (labels: Record<string, string>) => sample(text, "isartor_requests_total", labels);
    assert.equal(
      req({ final_layer: "L3_Cloud", layer: "l3", status_code: "200", client: "claude_code" }),
      1,
    );
    assert.equal(req({ final_layer: "L1a_ExactCache", client: "claude_code" }), 1);
    assert.equal(req({ final_layer: "L1b_SemanticCache", client: "other" }), 1);
    assert.equal(
      req({ final_layer: "L0_AuthBlocked", layer: "gateway", status_code: "415", client: "curl" }),
      1,
    );
    assert.ok(!text.includes("Some App Name"), "no free-form label values");
    for (const line of text.split("\n").filter((l) => l.startsWith("isartor_requests_total{"))) {
      assert.match(line, /endpoint_family="openai"/);
    }
    // Histograms: the request's time, and each layer's own time (L1a passed on the miss).
    for (const layer of ["l1a", "l1b", "l3", "gateway"]) {
      assert.ok(sample(text, "isartor_request_duration_seconds_count", { layer }) >= 1, layer);
    }
    const layerCount = (layer: string, outcome: string) =>
      sample(text, "isartor_layer_duration_seconds_count", { layer, outcome });
    assert.equal(layerCount("l1a", "answered"), 1);
    assert.equal(layerCount("l1a", "passed"), 3);
    assert.equal(layerCount("l1b", "answered"), 1);
    assert.equal(layerCount("l3", "answered"), 2);
    assert.equal(req({ layer: "l3", client: "openai_sdk_python" }), 1);
    assert.equal(sample(text, "isartor_fallbacks_total", { to: "groq" }), 1);
    // Savings: the usage of the cached answer, per layer, and its price (openai's estimate).
    const saved = (layer: string, direction: string) =>
      sample(text, "isartor_tokens_saved_total", { layer, direction });
    assert.ok(saved("l1a", "input") > 0 && saved("l1a", "output") > 0);
    assert.equal(saved("l1b", "input"), saved("l1a", "input"));
    const cost = sample(text, "isartor_cost_saved_usd_total", { layer: "l1a" });
    // 1.25 USD per million input tokens, 10 per million output (src/telemetry/prices.ts).
    const expected = (saved("l1a", "input") * 1.25 + saved("l1a", "output") * 10) / 1e6;
    assert.ok(Math.abs(cost - expected) < 1e-12, `${cost} vs ${expected}`);
    assert.ok(!/isartor_tokens_saved_total\{[^}]*layer="l3"/.test(text), "L3 saves nothing");
  } finally {
    await served.close();
  }
});

Deno.test({
  name: "metrics: promtool check metrics passes on a real /metrics",
  ignore: skipPromtool(),
  async fn() {
    const served = await servedGateway();
    try {
      const { code, output } = await promtool(["check", "metrics"], served.text);
      assert.equal(code, 0, output);
      assert.equal(output.trim(), "", "no lint findings");
    } finally {
      await served.close();
    }
  },
});

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
}

const DASHBOARD = new URL("../../deploy/grafana/isartor.json", import.meta.url);

/** Each panel's expressions, with the names they use that the scrape does not have. */
function unknownNames(panels: Panel[], e: Exposition): string[] {
  const problems: string[] = [];
  for (const p of panels) {
    for (const { expr } of p.targets ?? []) {
      const { metrics, labels } = namesOf(expr);
      if (!metrics.length) problems.push(`${p.title}: names no metric`);
      for (const m of metrics) {
        if (!isExposed(m, e)) problems.push(`${p.title}: ${m} is not exposed`);
      }
      // Every label it groups or filters by is on one of its series (`le` on buckets).
      const have = new Set(metrics.flatMap((m) => [...(e.labels.get(m) ?? [])]));
      for (const l of labels) if (!have.has(l)) problems.push(`${p.title}: no label ${l}`);
    }
  }
  return problems;
}

Deno.test("grafana: every panel of deploy/grafana/isartor.json queries what /metrics exposes", async () => {
  const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD));
  const panels: Panel[] = dashboard.panels;
  const served = await servedGateway();
  try {
    const e = parseExposition(served.text);
    assert.deepEqual(unknownNames(panels, e), []);
    // What the issue asks it to graph.
    const used = new Set(
      panels.flatMap((p) => (p.targets ?? []).flatMap((t) => namesOf(t.expr).metrics)),
    );
    for (
      const m of [
        "isartor_requests_total",
        "isartor_request_duration_seconds_bucket",
        "isartor_layer_duration_seconds_bucket",
        "isartor_tokens_saved_total",
        "isartor_cost_saved_usd_total",
      ]
    ) assert.ok(used.has(m), m);
    // The checker catches a name the gateway does not have.
    assert.equal(
      unknownNames([{
        title: "t",
        type: "stat",
        targets: [{ expr: "rate(isartor_nope_total[5m])" }],
      }], e).length,
      1,
    );
    assert.equal(
      unknownNames([{
        title: "t",
        type: "stat",
        targets: [{ expr: "sum by (nope) (isartor_requests_total)" }],
      }], e).length,
      1,
    );
  } finally {
    await served.close();
  }
});

Deno.test({
  name: "grafana: every panel's query returns series from a real Prometheus scraping the gateway",
  // The same Debian package as promtool.
  ignore: skipPromtool() ||
    skipWithout(prometheusPath(), "prometheus", "apt-get install prometheus"),
  async fn() {
    const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD));
    const served = await servedGateway();
    const prometheus = await startPrometheus(new URL(served.url).host);
    try {
      // Two scrapes: enough for rate() and increase() to have a value.
      await prometheus.scraped(2);
      const empty: string[] = [];
      for (const p of dashboard.panels as Panel[]) {
        for (const t of p.targets ?? []) {
          const series = await prometheus.query(expandGrafanaVars(t.expr));
          if (series.length === 0) empty.push(`${p.title}: ${t.expr}`);
        }
      }
      assert.deepEqual(empty, [], "panels with no data");
      // The layers the gateway answered with, as the dashboard's per-layer panel groups them.
      const layers = await prometheus.query("sum by (layer) (isartor_requests_total)");
      assert.deepEqual(layers.map((s) => s.metric.layer).sort(), ["gateway", "l1a", "l1b", "l3"]);
    } finally {
      await prometheus.close();
      await served.close();
    }
  },
});

Deno.test({
  name: "grafana: every panel's PromQL parses (promtool check rules)",
  ignore: skipPromtool(),
  async fn() {
    const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD));
    const rules = (dashboard.panels as Panel[]).flatMap((p, i) =>
      (p.targets ?? []).map((t, j) => ({
        record: `isartor:panel_${i}_${j}`,
        expr: expandGrafanaVars(t.expr),
      }))
    );
    assert.ok(rules.length >= 10);
    const dir = await Deno.makeTempDir({ prefix: "isartor-rules-" });
    try {
      // JSON is YAML: promtool reads the rules file as written.
      await Deno.writeTextFile(
        `${dir}/rules.yml`,
        JSON.stringify({ groups: [{ name: "panels", rules }] }),
      );
      const { code, output } = await promtool(["check", "rules", `${dir}/rules.yml`]);
      assert.equal(code, 0, output);
      assert.match(output, new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("native /api/chat: counted once in the stats, /metrics and the request log (answer and upstream error)", async () => {
  const mock = await startMockUpstream();
  const dataDir = await Deno.makeTempDir({ prefix: "isartor-native-" });
  const gw = await startGateway({
    llm_provider: "openai",
    external_llm_url: `${mock.url}/v1`,
    external_llm_api_key: "sk-provider",
    cache_mode: "exact",
    cache_backend: "memory",
    l3_max_retries: 0,
    data_dir: dataDir,
  });
  const native = async (prompt: string) => {
    const res = await fetch(`${gw.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "curl/8.5.0" },
      body: JSON.stringify({ prompt }),
    });
    await res.text();
    return { status: res.status, layer: res.headers.get("x-isartor-layer") };
  };
  let text: string;
  try {
    assert.deepEqual(await native("hello"), { status: 200, layer: "l3" });
    assert.deepEqual(await native("hello"), { status: 200, layer: "l1a" });
    mock.enqueue({ kind: "error", status: 500 });
    assert.equal((await native("fails upstream")).status, 500);
    const stats = await (await fetch(`${gw.url}/api/v1/stats`)).json();
    assert.equal(stats.totals.requests, 3, "each request once");
    assert.equal(stats.totals.errors, 1);
    assert.equal(stats.layers.l1a.requests, 1);
    assert.ok(stats.totals.saved_input_tokens > 0);
    assert.deepEqual(stats.recent.map((r: { route: string }) => r.route), [
      "native",
      "native",
      "native",
    ]);
    text = await (await fetch(`${gw.url}/metrics`)).text();
  } finally {
    await gw.close();
    await mock.close();
  }
  const req = (labels: Record<string, string>) => sample(text, "isartor_requests_total", labels);
  assert.equal(
    req({ endpoint_family: "native", layer: "l3", status_code: "200", client: "curl" }),
    1,
  );
  assert.equal(req({ endpoint_family: "native", layer: "l1a", status_code: "200" }), 1);
  assert.equal(req({ endpoint_family: "native", status_code: "500" }), 1);
  assert.ok(
    sample(text, "isartor_tokens_saved_total", { endpoint_family: "native", direction: "input" }) >
      0,
  );
  const log = (await Deno.readTextFile(`${dataDir}/requests.jsonl`)).trim().split("\n")
    .map((l) => JSON.parse(l));
  await Deno.remove(dataDir, { recursive: true });
  assert.deepEqual(log.map((r) => [r.route, r.layer, r.status]), [
    ["native", "l3", 200],
    ["native", "l1a", 200],
    ["native", "l3", 500],
  ]);
});
