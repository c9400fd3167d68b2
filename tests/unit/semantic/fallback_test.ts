import assert from "node:assert/strict";
import { FallbackEmbedder, normalizeText, stem, wordTokens } from "../../../src/embed/fallback.ts";
import { buildEmbedder, configuredBackend } from "../../../src/embed/build.ts";
import { ConfigSchema } from "../../../src/config/schema.ts";
import { similarityThreshold } from "../../../src/semantic/threshold.ts";

const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

Deno.test("fallback: normalization, tokens and stems", () => {
  assert.equal(normalizeText("Don’t  ＳＨＯＵＴ"), "do not shout");
  assert.deepEqual(wordTokens("How do I use C++ and C#?"), [
    "how",
    "do",
    "i",
    "use",
    "c++",
    "and",
    "c#",
  ]);
  assert.equal(stem("installing"), "install");
  assert.equal(stem("installed"), "install");
  assert.equal(stem("libraries"), "library");
  assert.equal(stem("running"), "run");
  assert.equal(stem("class"), "class");
});

Deno.test("fallback: deterministic unit vectors; rewordings score high, other questions low", async () => {
  const e = new FallbackEmbedder();
  const [a, b, c, d, empty] = await e.embed([
    "What is the capital of France?",
    "what's the capital of france",
    "What is the capital of Germany?",
    "How do I bake bread?",
    "?!",
  ]);
  assert.equal(a.length, 384);
  assert.ok(Math.abs(cos(a, a) - 1) < 1e-5);
  assert.ok(cos(a, b) > 0.99);
  assert.ok(cos(a, c) < 0.9);
  assert.ok(cos(a, d) < 0.3);
  assert.equal(empty.every((x) => x === 0), true);
  assert.deepEqual((await e.embed(["What is the capital of France?"]))[0], a);
});

Deno.test("embedder factory: none today, named backends, per-embedder thresholds", () => {
  const config = ConfigSchema.parse({ embedding_backend: "none" });
  assert.equal(configuredBackend(config), "none");
  const e = buildEmbedder(config);
  assert.equal(e.name, "none");
  assert.equal(configuredBackend(ConfigSchema.parse({ embedding_backend: "remote" })), "remote");
  assert.equal(similarityThreshold(config, e), 0.7);
  assert.equal(similarityThreshold(config, { name: "minilm" }), 0.92);
  assert.equal(similarityThreshold(ConfigSchema.parse({ similarity_threshold: 0.8 }), e), 0.8);
  assert.equal(similarityThreshold(ConfigSchema.parse({ similarity_threshold: "0.85" }), e), 0.85);
  assert.equal(ConfigSchema.safeParse({ similarity_threshold: 1.5 }).success, false);
});
