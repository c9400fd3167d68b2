// `isartor bench semantic` and `isartor bench deflection`, run as a user would, on small generated files.
import assert from "node:assert/strict";
import { cliSandbox } from "../support/cli_harness.ts";

const PAIRS = [
  { a: "What is the capital of France?", b: "what's the capital of France", duplicate: true },
  { a: "How do I reset my password?", b: "How do I reset my password", duplicate: true },
  { a: "Explain how DNS works", b: "Describe the way name resolution functions", duplicate: true },
  { a: "How do I turn on dark mode?", b: "How do I turn off dark mode?", duplicate: false },
  {
    a: "Which process listens on port 8080?",
    b: "Which process listens on port 8081?",
    duplicate: false,
  },
  { a: "Best hotels in Paris?", b: "How do I bake sourdough bread?", duplicate: false },
];

Deno.test("cli bench semantic: rates, threshold, embedder and the curve", async () => {
  const user = await cliSandbox();
  // The model-free embedder: these figures are its own (no model is needed or downloaded).
  await Deno.writeTextFile(`${user.cwd}/isartor.toml`, 'embedding_backend = "none"\n');
  try {
    await Deno.writeTextFile(
      `${user.cwd}/pairs.jsonl`,
      PAIRS.map((p) => JSON.stringify(p)).join("\n") + "\n",
    );
    const r = await user.run(["bench", "semantic", "--pairs", "pairs.jsonl", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.pairs, 6);
    assert.equal(report.duplicates, 3);
    assert.equal(report.embedder, "none");
    assert.equal(report.threshold, 0.7);
    assert.equal(report.correct_hits, 2, "the two rewordings hit; the real paraphrase does not");
    assert.equal(report.hit_rate, 2 / 3);
    assert.equal(report.false_hit_rate, 0);
    assert.equal(report.precision, 1);
    assert.equal(report.curve.length, 51);
    assert.equal(report.curve[0].threshold, 0.5);
    // At a low threshold the gates are what keeps on/off and 8080/8081 apart.
    const low = report.curve[0];
    assert.equal(low.gates.false_hits, 0);
    assert.ok(low.no_gates.false_hits >= 2);

    const text = await user.run([
      "bench",
      "semantic",
      "--pairs",
      "pairs.jsonl",
      "--threshold",
      "0.95",
    ]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /pairs\s+6 \(3 duplicates, 3 non-duplicates\)/);
    assert.match(text.stdout, /hit rate on duplicates\s+66\.7% \(2\/3\)/);
    assert.match(text.stdout, /false-hit rate \(non-dups\)\s+0\.00% \(0\/3\)/);
    assert.match(text.stdout, /threshold\s+0\.95/);
    assert.match(text.stdout, /embedder\s+none \(isartor-hash-v1, 384 dims\)/);

    // --explain: per pair, the verdict, the differing words and the rule.
    const explained = await user.run(["bench", "semantic", "--pairs", "pairs.jsonl", "--explain"]);
    assert.equal(explained.code, 0, explained.stderr);
    assert.match(explained.stdout, /dup {2}1\.0000 {2}HIT\n {2}a: How do I reset my password\?/);
    assert.match(explained.stdout, /MISS \(opposites\)[^]*only in a: on; only in b: off/);
    assert.match(explained.stdout, /on: pairs with nothing in the other text/);

    // GPTCache's format: every pair a duplicate.
    await Deno.writeTextFile(
      `${user.cwd}/mock.json`,
      JSON.stringify([{
        origin: "How do I reset my password?",
        similar: "how do i reset my password",
      }]),
    );
    const mock = JSON.parse(
      (await user.run(["bench", "semantic", "--pairs", "mock.json", "--json"])).stdout,
    );
    assert.equal(mock.hit_rate, 1);
    assert.equal(mock.false_hit_rate, null);

    const missing = await user.run(["bench", "semantic"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--pairs FILE is required/);
    const bad = await user.run([
      "bench",
      "semantic",
      "--pairs",
      "pairs.jsonl",
      "--embedder",
      "gpt",
    ]);
    assert.equal(bad.code, 2);
  } finally {
    await user.cleanup();
  }
});

Deno.test("cli bench deflection: per-layer counts, deflection per pass, latency", async () => {
  const user = await cliSandbox();
  // The model-free embedder: these figures are its own (no model is needed or downloaded).
  await Deno.writeTextFile(`${user.cwd}/isartor.toml`, 'embedding_backend = "none"\n');
  try {
    const prompts = [
      "What is your return policy?",
      "How do I reset my password?",
      "What is your return policy?",
      "What's your return policy?",
      "How do I turn off notifications?",
    ];
    await Deno.writeTextFile(
      `${user.cwd}/w.jsonl`,
      prompts.map((prompt, i) => JSON.stringify({ step: i, prompt })).join("\n"),
    );
    const r = await user.run([
      "bench",
      "deflection",
      "--workload",
      "w.jsonl",
      "--passes",
      "2",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.requests, 10);
    assert.equal(report.errors, 0);
    assert.equal(report.provider_calls, 3);
    assert.equal(report.layers.l3.answered, 3);
    // The reworded repeat, in both passes: L1a stores only what the provider answered,
    // never an L1b match.
    assert.equal(report.layers.l1b.answered, 2);
    assert.equal(report.layers.l1a.answered, 5);
    assert.equal(report.deflection_rate, 0.7);
    assert.equal(report.per_pass[0].deflection_rate, 0.4);
    assert.equal(report.per_pass[1].deflection_rate, 1);
    assert.equal(typeof report.layers.l1a.p50_ms, "number");
    assert.equal(report.embedder.backend, "none");

    const text = await user.run(["bench", "deflection", "--workload", "w.jsonl"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /L1b semantic cache\s+1\s+20\.0%/);
    assert.match(text.stdout, /deflection 40\.0%; 3 provider calls/);

    await Deno.writeTextFile(`${user.cwd}/bad.jsonl`, '{"text": "no prompt"}\n');
    const bad = await user.run(["bench", "deflection", "--workload", "bad.jsonl"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /line 1 has no "prompt" string/);
  } finally {
    await user.cleanup();
  }
});
