// `isartor models` for the L2 router model: pull (download with resume, or --from DIR),
// list, and the gateway finding the pulled GGUF; a tiny GGUF stands in for the 398 MB one.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { runModels } from "../../cli/models.ts";
import { captureIO } from "../support/capture_io.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import type { ModelManifest } from "../../src/embed/model_files.ts";
import { routerModelFile, routerStatus } from "../../src/slm/build.ts";
import { writeTinyGguf } from "../support/tiny_gguf.ts";

/** A hub serving one file (resume and cuts are tested for MiniLM in models_pull_test.ts: same code). */
function hub(path: string, bytes: Uint8Array<ArrayBuffer>) {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    requests.push(new URL(req.url).pathname);
    if (!new URL(req.url).pathname.endsWith(path)) return new Response("no", { status: 404 });
    return new Response(bytes);
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, requests, close: () => server.shutdown() };
}

Deno.test("l2 models: pull fetches the router GGUF at its pinned revision, verified; the gateway finds it", async () => {
  const root = await Deno.makeTempDir({ prefix: "isartor-l2-models-" });
  const gguf = writeTinyGguf({ chain: ["\n", "1", "<|im_end|>"] });
  const file = "tiny-router-Q8_0.gguf";
  const router: ModelManifest = {
    name: "tiny-router",
    model: "isartor-tests/tiny-router",
    repo: "isartor-tests/tiny-router-GGUF",
    revision: "0123456789abcdef0123456789abcdef01234567",
    dims: 0,
    role: "router",
    license: "Apache-2.0",
    files: [{
      path: file,
      size: gguf.length,
      sha256: createHash("sha256").update(gguf).digest("hex"),
      variant: "q4_k_m",
    }],
  };
  const h = hub(file, gguf);
  const config = ConfigSchema.parse({
    data_dir: `${root}/data`,
    enable_slm_router: true,
    router_backend: "embedded",
  });
  try {
    assert.equal(await routerModelFile(config, {}, router), null);
    assert.match(await routerStatus(config), /model missing: run `isartor models pull --model/);
    const c = captureIO();
    const code = await runModels(["pull", "--model", "tiny-router"], c.io, {
      config,
      env: { HF_ENDPOINT: h.url },
      models: [router],
      retries: 2,
    });
    assert.equal(code, 0, c.errors());
    assert.match(c.text(), /tiny-router-Q8_0\.gguf .* downloaded, verified/);
    assert.deepEqual(h.requests, [`/${router.repo}/resolve/${router.revision}/${file}`]);
    const found = await routerModelFile(config, {}, router);
    assert.equal(found, `${root}/data/models/isartor-tests/tiny-router-GGUF/${file}`);
    const list = captureIO();
    await runModels(["list", "--json"], list.io, { config, models: [router] });
    const json = JSON.parse(list.text());
    assert.equal(json.models[0].verified, true);

    // --from DIR (air-gapped) into another models folder.
    await Deno.mkdir(`${root}/usb`);
    await Deno.writeFile(`${root}/usb/${file}`, gguf);
    const offline = captureIO();
    const code2 = await runModels(
      ["pull", "--model", "tiny-router", "--from", `${root}/usb`, "--dir", `${root}/other`],
      offline.io,
      { config, models: [router] },
    );
    assert.equal(code2, 0, offline.errors());
    assert.match(offline.text(), /copied, verified/);
    // A file with other bytes is refused.
    await Deno.writeFile(`${root}/usb/${file}`, gguf.map((b, i) => i === 100 ? b ^ 1 : b));
    const bad = captureIO();
    const code3 = await runModels(
      ["pull", "--model", "tiny-router", "--from", `${root}/usb`, "--dir", `${root}/third`],
      bad.io,
      { config, models: [router] },
    );
    assert.equal(code3, 1);
    assert.match(bad.errors(), /checksum mismatch/);
  } finally {
    await h.close();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("l2 models: the pinned default is Qwen2.5-0.5B-Instruct Q4_K_M at a fixed revision", async () => {
  const c = captureIO();
  const config = ConfigSchema.parse({ data_dir: "/nonexistent/isartor" });
  await runModels(["list", "--json"], c.io, { config });
  const json = JSON.parse(c.text());
  const qwen = json.models.find((m: { name: string }) => m.name === "qwen2.5-0.5b-instruct");
  assert.equal(qwen.repo, "bartowski/Qwen2.5-0.5B-Instruct-GGUF");
  assert.match(qwen.revision, /^[0-9a-f]{40}$/);
  assert.equal(qwen.present, false);
});
