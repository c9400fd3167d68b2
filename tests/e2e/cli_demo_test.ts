// `isartor demo` needs no key and no network: the real pipeline against a simulated provider.
import assert from "node:assert/strict";
import { isartor } from "../support/cli_runner.ts";

Deno.test("demo: works with no key and an empty HOME; honest labels; layers sum to the workload", async () => {
  const home = await Deno.makeTempDir({ prefix: "isartor-demo-home-" });
  try {
    const r = await isartor(["demo", "--json", "--sim-latency", "0"], { HOME: home }, 60_000);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.simulated, true);
    assert.match(report.upstream, /simulated/);
    assert.equal(report.live, null, "no key: no live round trip");
    const size = report.workload.requests;
    assert.ok(size >= 30, `a few dozen prompts, got ${size}`);
    assert.ok(report.workload.exact_repeats > 0 && report.workload.paraphrases > 0);
    const layers = report.layers as Record<string, { answered: number; simulated: boolean }>;
    for (const l of ["l1a", "l1b", "l3"]) assert.ok(l in layers, l);
    assert.ok(!("l2" in layers), "no L2 row while L2 is off");
    const sum = Object.values(layers).reduce((n, l) => n + l.answered, 0);
    assert.equal(sum, size);
    assert.ok(Object.values(layers).every((l) => l.simulated === true));
    assert.equal(report.results.length, size);
    for (const res of report.results) {
      assert.equal(res.status, 200, JSON.stringify(res));
      assert.equal(res.simulated, true, "every answer carries the [simulated] mark");
    }
    assert.equal(
      report.totals.simulated_provider_calls,
      layers.l3.answered,
      "the simulated provider was called exactly for the L3 answers",
    );
    // Nothing was written to the user's home.
    assert.deepEqual([...Deno.readDirSync(home)], []);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("demo: the human output labels the simulation", async () => {
  const home = await Deno.makeTempDir({ prefix: "isartor-demo-home-" });
  try {
    const r = await isartor(["demo", "--sim-latency", "0"], { HOME: home }, 60_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /simulated/);
    assert.match(r.stdout, /Per layer \(the provider is simulated\)/);
    assert.match(r.stdout, /L3 cloud \(simulated\)/);
    assert.doesNotMatch(r.stdout, /L2 router/, "no L2 row while L2 is off");
    assert.doesNotMatch(r.stdout + r.stderr, /needs loadEmbedder/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
