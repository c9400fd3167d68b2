/**
 * Model files: the pinned manifest, where models are looked for (models_dir,
 * a plain folder, the Hugging Face cache), verification, resumable downloads
 * (through an injected fetch), ensureModel's one-line errors, and
 * loadEmbedder's fallback.
 */
import assert from "node:assert/strict";
import { ConfigSchema } from "../../../src/config/schema.ts";
import { loadEmbedder } from "../../../src/embed/build.ts";
import { downloadFile, sha256File } from "../../../src/embed/model_download.ts";
import {
  filesFor,
  findModel,
  KNOWN_MODELS,
  MINILM_L6_V2,
  type ModelManifest,
} from "../../../src/embed/model_files.ts";
import {
  ensureModel,
  fileUrl,
  hfSnapshotFolder,
  locateModel,
  modelFolder,
  modelPaths,
} from "../../../src/embed/models.ts";
import { tinyManifest, writeTinyBert } from "../../support/tiny_bert.ts";

let shared: Promise<{ root: string; source: string; manifest: ModelManifest }> | null = null;

/** A tiny model and its manifest, for the whole file. */
function fixture() {
  shared ??= (async () => {
    const root = await Deno.makeTempDir({ prefix: "isartor-models-" });
    const model = await writeTinyBert(`${root}/source`, { quantized: true });
    return { root, source: model.dir, manifest: await tinyManifest(model) };
  })();
  return shared;
}

/** A fetch that serves `source` as a hub would, honouring Range; `cutAt` cuts bodies once. */
function fakeHub(source: string, manifest: ModelManifest, opts: { cutAt?: number } = {}) {
  const requests: { path: string; range: string | null }[] = [];
  let cut = opts.cutAt;
  const prefix = `https://hub.test/${manifest.repo}/resolve/${manifest.revision}/`;
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    const range = new Headers(init?.headers).get("range");
    requests.push({ path: url.slice(prefix.length), range });
    if (!url.startsWith(prefix)) return new Response("no", { status: 404 });
    const bytes = await Deno.readFile(`${source}/${url.slice(prefix.length)}`);
    const start = range ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    const body = bytes.subarray(start);
    const headers = range
      ? { "content-range": `bytes ${start}-${bytes.length - 1}/${bytes.length}` }
      : undefined;
    if (cut !== undefined && body.length > cut) {
      const n = cut;
      cut = undefined;
      let sent = false;
      const stream = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent) return c.error(new Error("connection reset"));
          sent = true;
          c.enqueue(body.slice(0, n));
        },
      });
      return new Response(stream, { status: range ? 206 : 200, headers });
    }
    return new Response(body, { status: range ? 206 : 200, headers });
  }) as typeof fetch;
  return { fetch: fetchFn, requests };
}

Deno.test("model files: the pinned MiniLM manifest is complete and well-formed", () => {
  assert.equal(KNOWN_MODELS[0], MINILM_L6_V2);
  assert.equal(MINILM_L6_V2.revision.length, 40);
  assert.equal(MINILM_L6_V2.dims, 384);
  for (const f of MINILM_L6_V2.files) {
    assert.ok(f.size > 0);
    assert.match(f.sha256 ?? "", /^[0-9a-f]{64}$/, `${f.path} is not pinned`);
  }
  assert.deepEqual(filesFor(MINILM_L6_V2, ["q8"]).map((f) => f.path), [
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "onnx/model_quantized.onnx",
  ]);
  assert.equal(findModel("xenova/all-minilm-l6-v2"), MINILM_L6_V2);
  assert.equal(findModel("sentence-transformers/all-MiniLM-L6-v2"), MINILM_L6_V2);
  assert.equal(findModel("nope"), undefined);
  assert.equal(
    fileUrl("https://huggingface.co", MINILM_L6_V2, "onnx/model_quantized.onnx"),
    "https://huggingface.co/Xenova/all-MiniLM-L6-v2/resolve/751bff37182d3f1213fa05d7196b954e230abad9/onnx/model_quantized.onnx",
  );
});

Deno.test("model paths: models_dir, data_dir/models, HF_HOME, HF_ENDPOINT, ~", () => {
  const base = ConfigSchema.parse({ data_dir: "/srv/isartor" });
  assert.deepEqual(modelPaths(base), {
    modelsDir: "/srv/isartor/models",
    hfHubDir: null,
    endpoint: "https://huggingface.co",
  });
  const custom = ConfigSchema.parse({ models_dir: "~/models/" });
  const p = modelPaths(custom, { HOME: "/home/ann", HF_HOME: "~/.hf", HF_ENDPOINT: "http://m/" });
  assert.deepEqual(p, {
    modelsDir: "/home/ann/models",
    hfHubDir: "/home/ann/.hf/hub",
    endpoint: "http://m",
  });
  assert.equal(modelFolder(p.modelsDir, MINILM_L6_V2), "/home/ann/models/Xenova/all-MiniLM-L6-v2");
  assert.equal(
    hfSnapshotFolder(p.hfHubDir!, MINILM_L6_V2),
    "/home/ann/.hf/hub/models--Xenova--all-MiniLM-L6-v2/snapshots/751bff37182d3f1213fa05d7196b954e230abad9",
  );
});

Deno.test("locate: a plain folder and the Hugging Face cache are found and verified", async () => {
  const { root, source, manifest } = await fixture();
  // models_dir pointing straight at a folder of model files (air-gapped install).
  const direct = await locateModel(manifest, { modelsDir: source, hfHubDir: null, endpoint: "" });
  assert.equal(direct.found?.source, "folder");
  assert.deepEqual(direct.found?.variants, ["fp32", "q8"]);
  // The HF cache layout under $HF_HOME/hub.
  const hub = `${root}/hf/hub`;
  const snap = hfSnapshotFolder(hub, manifest);
  await Deno.mkdir(`${snap}/onnx`, { recursive: true });
  for (const f of manifest.files) await Deno.copyFile(`${source}/${f.path}`, `${snap}/${f.path}`);
  const paths = { modelsDir: `${root}/empty`, hfHubDir: hub, endpoint: "" };
  const viaCache = await locateModel(manifest, paths);
  assert.equal(viaCache.found?.source, "hf_cache");
  assert.equal(viaCache.found?.folder, snap);
  // A changed byte is caught by the hash, not by the size.
  const bytes = await Deno.readFile(`${snap}/tokenizer.json`);
  bytes[10] ^= 1;
  await Deno.writeFile(`${snap}/tokenizer.json`, bytes);
  const broken = await locateModel(manifest, paths);
  assert.equal(broken.found, null);
  const problem = broken.checked.at(-1)!.files.find((f) => f.path === "tokenizer.json")!.problem;
  assert.match(problem ?? "", /^SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}$/);
  assert.equal((await locateModel(manifest, paths, false)).found?.source, "hf_cache");
  await Deno.remove(`${root}/hf`, { recursive: true });
});

Deno.test("download: resumes a cut transfer with Range and verifies the result", async () => {
  const { root, source, manifest } = await fixture();
  const file = manifest.files.find((f) => f.path === "onnx/model.onnx")!;
  const hub = fakeHub(source, manifest, { cutAt: 5000 });
  const url = `https://hub.test/${manifest.repo}/resolve/${manifest.revision}/${file.path}`;
  const target = `${root}/dl/model.onnx`;
  const outcome = await downloadFile(url, target, file, { fetch: hub.fetch });
  assert.equal(outcome, "resumed");
  assert.deepEqual(hub.requests.map((r) => r.range), [null, "bytes=5000-"]);
  assert.equal(await sha256File(target), file.sha256);
  await assert.rejects(Deno.stat(`${target}.part`), Deno.errors.NotFound);
});

Deno.test("download: a checksum mismatch deletes the file and says so", async () => {
  const { root, source, manifest } = await fixture();
  const file = { ...manifest.files[0], sha256: "0".repeat(64) };
  const hub = fakeHub(source, manifest);
  const url = `https://hub.test/${manifest.repo}/resolve/${manifest.revision}/${file.path}`;
  const target = `${root}/bad/config.json`;
  await assert.rejects(
    downloadFile(url, target, file, { fetch: hub.fetch }),
    /checksum mismatch for config\.json .*expected 0{64}; the file was deleted/,
  );
  await assert.rejects(Deno.stat(target), Deno.errors.NotFound);
  await assert.rejects(Deno.stat(`${target}.part`), Deno.errors.NotFound);
  await assert.rejects(
    downloadFile("https://hub.test/nope", target, file, { fetch: hub.fetch }),
    /download of config\.json failed: HTTP 404/,
  );
});

Deno.test("ensureModel: offline and missing, or corrupt, gives one clear line", async () => {
  const { root, manifest } = await fixture();
  const config = ConfigSchema.parse({ data_dir: `${root}/data-offline`, offline_mode: true });
  const r = await ensureModel(config, { manifest });
  assert.equal(r.ok, false);
  assert.ok(!r.ok && !r.error.includes("\n"));
  assert.match(
    !r.ok ? r.error : "",
    /^embedding model tiny-bert is not found \(looked in .*data-offline\/models\/isartor-tests\/tiny-bert\); not downloading it here \(offline_mode, or the gateway process, which leaves downloads to `isartor up`\); fix: run `isartor models pull`/,
  );
  const folder = `${root}/data-offline/models/${manifest.repo}`;
  await Deno.mkdir(folder, { recursive: true });
  await Deno.writeTextFile(`${folder}/config.json`, "{}");
  const corrupt = await ensureModel(config, { manifest });
  assert.match(
    !corrupt.ok ? corrupt.error : "",
    /is corrupt in .*: config\.json \(size 2 bytes, expected \d+\)/,
  );
});

Deno.test("ensureModel: downloads on demand when allowed, then finds it", async () => {
  const { root, source, manifest } = await fixture();
  const config = ConfigSchema.parse({ data_dir: `${root}/data-online` });
  const hub = fakeHub(source, manifest);
  const events: string[] = [];
  const r = await ensureModel(config, {
    manifest,
    download: true,
    env: { HF_ENDPOINT: "https://hub.test" },
    fetch: hub.fetch,
    onEvent: (e) => e.kind === "file" && events.push(`${e.path}:${e.action}`),
  });
  assert.deepEqual(r, {
    ok: true,
    folder: `${root}/data-online/models/${manifest.repo}`,
    source: "models_dir",
    downloaded: true,
  });
  // The default variant only: the int8 export.
  assert.deepEqual(events, [
    "config.json:downloaded",
    "tokenizer.json:downloaded",
    "tokenizer_config.json:downloaded",
    "onnx/model_quantized.onnx:downloaded",
  ]);
  const again = await ensureModel(config, { manifest, download: true, fetch: hub.fetch });
  assert.equal(again.ok && again.downloaded, false);
});

Deno.test("loadEmbedder: minilm from the models folder, or the fallback with a notice", async () => {
  const { root, source, manifest } = await fixture();
  const ok = await loadEmbedder(ConfigSchema.parse({ models_dir: source, embedding_threads: 1 }), {
    manifest,
    minilm: { warmupRuns: 0 },
  });
  try {
    assert.equal(ok.notice, null);
    assert.equal(ok.embedder.name, "minilm");
    assert.equal(ok.embedder.model, manifest.model);
    assert.equal(ok.embedder.dims, 32);
    assert.equal((await ok.embedder.embed(["hello world"]))[0].length, 32);
  } finally {
    await ok.embedder.close();
  }
  const offline = ConfigSchema.parse({ data_dir: `${root}/none`, offline_mode: true });
  const fb = await loadEmbedder(offline, { manifest });
  assert.equal(fb.requested, "minilm");
  assert.equal(fb.embedder.name, "none");
  assert.match(
    fb.notice ?? "",
    /not found .*; the semantic cache uses the model-free embedder \("none"\) instead$/,
  );
  const remote = await loadEmbedder(ConfigSchema.parse({ embedding_backend: "remote" }));
  assert.equal(remote.embedder.name, "none");
  assert.match(remote.notice ?? "", /sidecar_url is empty/);
  const none = await loadEmbedder(ConfigSchema.parse({ embedding_backend: "none" }));
  assert.deepEqual([none.embedder.name, none.notice], ["none", null]);
});

Deno.test("models: cleanup", async () => {
  if (shared) await Deno.remove((await shared).root, { recursive: true });
});
