/**
 * The in-process MiniLM embedder, run for real (transformers.js on
 * onnxruntime-web, in its worker) on a tiny random BERT written in Hugging
 * Face layout, and checked against an independent plain-TypeScript forward
 * pass of the same weights.
 */
import assert from "node:assert/strict";
import {
  loadMiniLm,
  type MiniLmEmbedder,
  pickDtype,
  runtimeReadPaths,
} from "../../../src/embed/minilm.ts";
import { referenceEmbedding } from "../../support/bert_reference.ts";
import { referenceTokenIds, type TinyBert, writeTinyBert } from "../../support/tiny_bert.ts";

const TEXTS = [
  "What is the capital of France?",
  "hello world",
  "how do i reverse a list in python",
  "the cat and the dog run fast, the weather is slow today!",
];

let shared: Promise<{ root: string; model: TinyBert }> | null = null;

/** One tiny model (fp32 and q8) for the whole file. */
function tinyModel(): Promise<{ root: string; model: TinyBert }> {
  shared ??= (async () => {
    const root = await Deno.makeTempDir({ prefix: "isartor-minilm-" });
    const model = await writeTinyBert(`${root}/tiny-bert`, { quantized: true });
    return { root, model };
  })();
  return shared;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

async function withEmbedder(
  dtype: "fp32" | "q8",
  f: (e: MiniLmEmbedder, model: TinyBert) => Promise<void>,
) {
  const { model } = await tinyModel();
  const e = await loadMiniLm(model.dir, { dtype, threads: 1, warmupRuns: 0 });
  try {
    await f(e, model);
  } finally {
    await e.close();
  }
}

Deno.test("minilm: fp32 embeddings equal a plain-TS forward pass within 1e-4", async () => {
  await withEmbedder("fp32", async (e, model) => {
    assert.equal(e.name, "minilm");
    assert.equal(e.model, "tiny-bert");
    assert.equal(e.dims, 32);
    assert.equal(e.dtype, "fp32");
    // One batch: different lengths, so padding and the attention mask are exercised.
    const vectors = await e.embed(TEXTS);
    assert.equal(vectors.length, TEXTS.length);
    TEXTS.forEach((t, i) => {
      const ref = referenceEmbedding(model.weights, model.shape, referenceTokenIds(t));
      assert.ok(maxAbsDiff(vectors[i], ref) < 1e-4, `"${t}" differs from the reference`);
      assert.ok(Math.abs(dot(vectors[i], vectors[i]) - 1) < 1e-5, "not unit length");
    });
  });
});

Deno.test("minilm: the int8 export agrees with the fp32 reference (cosine > 0.999)", async () => {
  await withEmbedder("q8", async (e, model) => {
    assert.equal(e.dtype, "q8");
    const vectors = await e.embed(TEXTS);
    TEXTS.forEach((t, i) => {
      const ref = referenceEmbedding(model.weights, model.shape, referenceTokenIds(t));
      assert.ok(dot(vectors[i], ref) > 0.999, `"${t}": cosine ${dot(vectors[i], ref)}`);
    });
  });
});

Deno.test("minilm: concurrent calls are batched and each gets its own vectors", async () => {
  await withEmbedder("fp32", async (e) => {
    const alone = await Promise.all(TEXTS.map(async (t) => (await e.embed([t]))[0]));
    const many = await Promise.all(
      Array.from({ length: 40 }, (_, i) => e.embed([TEXTS[i % TEXTS.length]])),
    );
    many.forEach(([v], i) => assert.ok(maxAbsDiff(v, alone[i % TEXTS.length]) < 1e-5));
    assert.deepEqual(await e.embed([]), []);
  });
});

Deno.test("minilm: a long text is truncated, not refused", async () => {
  await withEmbedder("fp32", async (e) => {
    const [v] = await e.embed([Array.from({ length: 2000 }, () => "hello").join(" ")]);
    assert.equal(v.length, 32);
    assert.ok(Number.isFinite(v[0]));
  });
});

Deno.test("minilm: closing rejects later calls with a clear message", async () => {
  const { model } = await tinyModel();
  const e = await loadMiniLm(model.dir, { dtype: "fp32", threads: 1, warmupRuns: 0 });
  await e.close();
  await assert.rejects(e.embed(["hello"]), /closed/);
});

Deno.test("minilm: the quantized file is preferred, and missing files are named", async () => {
  const { root, model } = await tinyModel();
  assert.equal(await pickDtype(model.dir), "q8");
  assert.equal(await pickDtype(model.dir, "fp32"), "fp32");
  const partial = `${root}/partial`;
  await Deno.mkdir(`${partial}/onnx`, { recursive: true });
  await Deno.copyFile(`${model.dir}/config.json`, `${partial}/config.json`);
  await assert.rejects(loadMiniLm(partial), /has no tokenizer\.json/);
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) {
    await Deno.copyFile(`${model.dir}/${f}`, `${partial}/${f}`);
  }
  await assert.rejects(loadMiniLm(partial), /onnx\/model\.onnx or onnx\/model_quantized\.onnx/);
});

Deno.test("minilm: a corrupt ONNX file fails the load with one message, no crash", async () => {
  const { root, model } = await tinyModel();
  const bad = `${root}/corrupt`;
  await Deno.mkdir(`${bad}/onnx`, { recursive: true });
  for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json"]) {
    await Deno.copyFile(`${model.dir}/${f}`, `${bad}/${f}`);
  }
  await Deno.writeFile(`${bad}/onnx/model.onnx`, new Uint8Array(1000).fill(7));
  await assert.rejects(
    loadMiniLm(bad, { threads: 1, warmupRuns: 0 }),
    (e: Error) => e.message.startsWith(`cannot load the embedding model from ${bad} (fp32): `),
  );
});

Deno.test("minilm: two threads give the same vectors as one", async () => {
  const { model } = await tinyModel();
  const one = await loadMiniLm(model.dir, { dtype: "fp32", threads: 1, warmupRuns: 0 });
  const two = await loadMiniLm(model.dir, { dtype: "fp32", threads: 2, warmupRuns: 0 });
  try {
    const [a, b] = await Promise.all([one.embed(TEXTS), two.embed(TEXTS)]);
    a.forEach((v, i) => assert.ok(maxAbsDiff(v, b[i]) < 1e-5));
  } finally {
    await one.close();
    await two.close();
  }
});

Deno.test("minilm: loads with read access to the model and runtimeReadPaths() only", async () => {
  const { root, model } = await tinyModel();
  const repo = new URL("../../../", import.meta.url);
  const script = `${root}/restricted.ts`;
  await Deno.writeTextFile(
    script,
    `import { loadMiniLm } from "${new URL("src/embed/minilm.ts", repo).href}";
const e = await loadMiniLm(${JSON.stringify(model.dir)}, { threads: 2, warmupRuns: 0 });
console.log((await e.embed(["hello world"]))[0].length);
await e.close();`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--config",
      new URL("deno.json", repo).pathname,
      `--allow-read=${[model.dir, ...runtimeReadPaths()].join(",")}`,
      script,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, err);
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "32");
});

Deno.test("minilm: cleanup", async () => {
  if (shared) await Deno.remove((await shared).root, { recursive: true });
});
