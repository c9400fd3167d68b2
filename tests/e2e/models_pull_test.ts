/**
 * `isartor models pull` and `isartor models list` against a fake Hugging Face
 * hub on 127.0.0.1 (real sockets) serving a tiny random BERT under
 * `/{repo}/resolve/{revision}/{file}`, with Range support and the ability to
 * cut a response mid-way or corrupt a file. The manifest is injected so it
 * pins the tiny model's hashes; one test runs the real CLI subprocess.
 */
import assert from "node:assert/strict";
import { runModels } from "../../cli/models.ts";
import { captureIO } from "../support/capture_io.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import type { ModelManifest } from "../../src/embed/model_files.ts";
import { cliArgs, cliEnv } from "../support/cli_runner.ts";
import { tinyManifest, writeTinyBert } from "../support/tiny_bert.ts";
import { exists } from "../support/files.ts";

/** A fake hub: serves `folder` as `manifest.repo` at `manifest.revision`. */
function fakeHub(folder: string, manifest: ModelManifest) {
  const requests: { file: string; range: string | null }[] = [];
  /** Files to cut once, after this many bytes. */
  const cutOnce = new Map<string, number>();
  /** Files served with one byte flipped. */
  const corrupt = new Set<string>();
  const prefix = `/${manifest.repo}/resolve/${manifest.revision}/`;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    if (!path.startsWith(prefix)) return new Response("Entry not found", { status: 404 });
    const file = path.slice(prefix.length);
    const range = req.headers.get("range");
    requests.push({ file, range });
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await Deno.readFile(`${folder}/${file}`);
    } catch {
      return new Response("Entry not found", { status: 404 });
    }
    if (corrupt.has(file)) bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    const start = range ? Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? 0) : 0;
    if (start >= bytes.length) return new Response(null, { status: 416 });
    const body = bytes.subarray(start);
    const headers = new Headers({ "accept-ranges": "bytes" });
    if (range) headers.set("content-range", `bytes ${start}-${bytes.length - 1}/${bytes.length}`);
    const cut = cutOnce.get(file);
    if (cut !== undefined && cut < body.length) {
      cutOnce.delete(file);
      let sent = false;
      // Announces the whole length, sends `cut` bytes, then ends: the client sees the
      // connection break mid-body.
      const stream = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent) return c.close();
          sent = true;
          c.enqueue(body.slice(0, cut));
        },
      });
      headers.set("content-length", String(body.length));
      return new Response(stream, { status: range ? 206 : 200, headers });
    }
    headers.set("content-length", String(body.length));
    return new Response(body, { status: range ? 206 : 200, headers });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    cutOnce,
    corrupt,
    close: () => server.shutdown(),
  };
}

interface Fixture {
  root: string;
  source: string;
  manifest: ModelManifest;
  hub: ReturnType<typeof fakeHub>;
  /** Runs `isartor models <args>` in process, models in `<root>/data/models`. */
  run(args: string[], retries?: number): Promise<ReturnType<typeof captureIO> & { code: number }>;
  target: string;
}

async function withFixture(f: (x: Fixture) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "isartor-models-e2e-" });
  const model = await writeTinyBert(`${root}/source`, { quantized: true });
  const manifest = await tinyManifest(model);
  const hub = fakeHub(model.dir, manifest);
  const config = ConfigSchema.parse({ data_dir: `${root}/data` });
  const run = async (args: string[], retries?: number) => {
    const c = captureIO();
    const code = await runModels(args, c.io, {
      config,
      env: { HF_ENDPOINT: hub.url },
      models: [manifest],
      retries,
    });
    return { ...c, code };
  };
  try {
    await f({
      root,
      source: model.dir,
      manifest,
      hub,
      run,
      target: `${root}/data/models/${manifest.repo}`,
    });
  } finally {
    await hub.close();
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("models pull: downloads with progress and checksums; list shows it verified", async () => {
  await withFixture(async ({ run, target, hub, manifest }) => {
    const before = await run(["list"]);
    assert.match(before.text(), /status: {3}missing/);
    const r = await run(["pull"]);
    assert.equal(r.code, 0, r.errors());
    const text = r.text();
    assert.match(
      text,
      /^Pulling tiny-bert \(isartor-tests\/tiny-bert @ 0123456789ab, q8\) from http:\/\/127\.0\.0\.1:\d+$/m,
    );
    assert.match(
      text,
      /^ {4}onnx\/model_quantized\.onnx {2}100% {2}[\d.]+ kB of [\d.]+ kB {2}[\d.]+ .?B\/s$/m,
    );
    for (
      const f of [
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "onnx/model_quantized.onnx",
      ]
    ) {
      assert.match(text, new RegExp(`✓ ${f.replace(".", "\\.")} .* downloaded, verified`));
      assert.ok(await exists(`${target}/${f}`), f);
    }
    assert.ok(!await exists(`${target}/onnx/model.onnx`), "fp32 is only pulled on request");
    assert.match(text, new RegExp(`^Done: ${target} \\(`, "m"));
    assert.ok(hub.requests.every((q) => q.range === null));
    const listed = await run(["list", "--json"]);
    const json = JSON.parse(listed.text());
    assert.equal(json.models[0].name, manifest.name);
    assert.equal(json.models[0].verified, true);
    assert.equal(json.models[0].folder, target);
    assert.deepEqual(json.models[0].variants, ["q8"]);
    // A second pull keeps what is there.
    const again = await run(["pull", "--variant", "all"]);
    assert.match(again.text(), /✓ config\.json .* already present, verified/);
    assert.match(again.text(), /✓ onnx\/model\.onnx .* downloaded, verified/);
  });
});

Deno.test("models pull: an interrupted download resumes with a Range request", async () => {
  await withFixture(async ({ run, target, hub, manifest }) => {
    const file = manifest.files.find((f) => f.path === "onnx/model_quantized.onnx")!;
    const half = Math.floor(file.size / 2);
    hub.cutOnce.set(file.path, half);
    const cut = await run(["pull"], 0);
    assert.equal(cut.code, 1);
    assert.match(
      cut.errors(),
      new RegExp(
        `download of onnx/model_quantized\\.onnx did not finish: the download was cut at ${half} of ${file.size} bytes .*; run the command again to resume`,
      ),
    );
    assert.equal((await Deno.stat(`${target}/${file.path}.part`)).size, half);
    assert.ok(!await exists(`${target}/${file.path}`));
    const resumed = await run(["pull"], 0);
    assert.equal(resumed.code, 0, resumed.errors());
    assert.match(resumed.text(), /✓ onnx\/model_quantized\.onnx .* resumed, verified/);
    assert.deepEqual(hub.requests.filter((q) => q.file === file.path).map((q) => q.range), [
      null,
      `bytes=${half}-`,
    ]);
    assert.ok(!await exists(`${target}/${file.path}.part`));
    // With retries (the default), a cut is resumed within the same run.
    hub.cutOnce.set("onnx/model.onnx", 1000);
    const auto = await run(["pull", "--variant", "fp32"]);
    assert.equal(auto.code, 0, auto.errors());
    assert.match(auto.text(), /✓ onnx\/model\.onnx .* resumed, verified/);
  });
});

Deno.test("models pull: a checksum mismatch is a clear error and leaves no file", async () => {
  await withFixture(async ({ run, target, hub }) => {
    hub.corrupt.add("tokenizer.json");
    const r = await run(["pull", "--json"]);
    assert.equal(r.code, 1);
    assert.match(
      r.errors(),
      /^isartor models pull: checksum mismatch for tokenizer\.json from http:\/\/127\.0\.0\.1:\d+\/.*: SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}; the file was deleted/,
    );
    assert.equal(JSON.parse(r.text()).ok, false);
    assert.ok(!await exists(`${target}/tokenizer.json`));
    assert.ok(!await exists(`${target}/tokenizer.json.part`));
    const listed = await run(["list"]);
    assert.match(listed.text(), /status: {3}incomplete/);
  });
});

Deno.test("models pull --from: copies and verifies a local folder (air-gapped)", async () => {
  await withFixture(async ({ root, run, target, source, hub }) => {
    const r = await run(["pull", "--from", source, "--variant", "all"]);
    assert.equal(r.code, 0, r.errors());
    assert.match(r.text(), /✓ onnx\/model\.onnx .* copied, verified/);
    assert.equal(hub.requests.length, 0, "nothing is downloaded");
    assert.ok(await exists(`${target}/onnx/model.onnx`));
    // A folder with a wrong file is refused, naming it.
    const bad = `${root}/bad`;
    await Deno.mkdir(bad);
    await Deno.writeTextFile(`${bad}/config.json`, "{}");
    const refused = await run(["pull", "--from", bad, "--dir", `${root}/elsewhere`]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.errors(),
      new RegExp(`${bad}/config\\.json is not the expected config\\.json: size 2 bytes`),
    );
    assert.ok(!await exists(`${root}/elsewhere/isartor-tests/tiny-bert/config.json`));
  });
});

Deno.test("models: usage errors and unknown models", async () => {
  await withFixture(async ({ run }) => {
    await assert.rejects(run(["fetch"]), /unknown subcommand "fetch"/);
    await assert.rejects(
      run(["pull", "--model", "gpt-9"]),
      /unknown model "gpt-9"; known: tiny-bert/,
    );
    await assert.rejects(
      run(["pull", "--variant", "fp16"]),
      /--variant must be one of fp32, q8, all/,
    );
    const help = await run(["--help"]);
    assert.match(help.text(), /isartor models pull --from/);
    // Each subcommand has its own help, not the generic one.
    const pullHelp = (await run(["pull", "--help"])).text();
    assert.match(pullHelp, /^isartor models pull \[--model NAME\]/);
    assert.doesNotMatch(pullHelp, /isartor models list/);
    assert.match((await run(["list", "--help"])).text(), /^isartor models list/);
  });
});

Deno.test("models: the real CLI lists the pinned model and reports a hub error", async () => {
  await withFixture(async ({ root, hub }) => {
    const env = await cliEnv({
      HOME: `${root}/home`,
      ISARTOR__MODELS_DIR: `${root}/cli-models`,
      HF_ENDPOINT: hub.url,
    });
    const exec = async (args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: cliArgs(["models", ...args]),
        env,
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const d = new TextDecoder();
      return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
    };
    const list = await exec(["list", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    const json = JSON.parse(list.stdout);
    assert.equal(json.models_dir, `${root}/cli-models`);
    assert.equal(json.models[0].name, "all-MiniLM-L6-v2");
    assert.equal(json.models[0].present, false);
    const pull = await exec(["pull"]);
    assert.equal(pull.code, 1);
    assert.match(
      pull.stderr,
      /download of config\.json failed: HTTP 404 Not Found for http:\/\/127\.0\.0\.1:\d+\/Xenova\/all-MiniLM-L6-v2\/resolve\/751bff37182d3f1213fa05d7196b954e230abad9\/config\.json/,
    );
  });
});
