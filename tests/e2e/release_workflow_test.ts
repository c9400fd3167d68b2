/**
 * What can be checked of the release here, without Docker or GitHub: the
 * workflow's YAML (parsed), the Dockerfile (parsed and linted by
 * dockerfile-utils; hadolint is in neither Debian 12 nor npm without a
 * download), the signing script run with a test key, the image's model step
 * run as the Dockerfile runs it, the health check on a configured port, and
 * that the repository and release key are written the same everywhere.
 */

import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { DockerfileParser } from "dockerfile-ast";
import { validate } from "dockerfile-utils";
import { REPOSITORY, REPOSITORY_URL } from "../../src/version.ts";
import { RELEASE_PUBLIC_KEY } from "../../cli/update/release_key.ts";
import { parsePublicKey, verifyMinisign } from "../../cli/update/minisign.ts";
import { assetName, expectedSha256 } from "../../cli/update/release.ts";
import { probeUrl } from "../../cli/healthcheck.ts";
import { KNOWN_MODELS } from "../../src/embed/model_files.ts";
import { REPO as REPO_ROOT } from "../support/cli_runner.ts";
import { cliSandbox } from "../support/cli_harness.ts";
import { makeKey, sha256Hex } from "../support/release_server.ts";

const read = (p: string) => Deno.readTextFile(`${REPO_ROOT}/${p}`);

/** An instruction's arguments on one line (continuations joined). */
function args(i: { getArgumentsContent(): string | null }): string {
  return (i.getArgumentsContent() ?? "").replace(/\\\s*\n/g, " ").replace(/\s+/g, " ").trim();
}

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  permissions?: Record<string, string>;
  steps: Step[];
}

async function workflow() {
  return parseYaml(await read(".github/workflows/release.yml")) as {
    on: { push: { tags: string[] } };
    permissions: Record<string, string>;
    jobs: Record<string, Job>;
  };
}

Deno.test("release workflow: test, then signed binaries with an SBOM, then a multi-arch image", async () => {
  const wf = await workflow();
  assert.deepEqual(wf.on.push.tags, ["v*"]);
  assert.deepEqual(wf.permissions, { contents: "read" }, "least privilege by default");
  const { test, binaries, image } = wf.jobs;
  assert.ok(test && binaries && image, Object.keys(wf.jobs).join(","));
  assert.ok(test.steps.some((s) => s.run === "bash .ci/run"));
  assert.equal(binaries.needs, "test");
  assert.equal(image.needs, "binaries");
  const runs = (j: Job) => j.steps.map((s) => s.run ?? "").join("\n");
  assert.match(runs(binaries), /deno@2\.9\.6 task compile/);
  assert.match(runs(binaries), /sh \.github\/scripts\/sign_release\.sh dist "\$GITHUB_REF_NAME"/);
  assert.match(runs(binaries), /apt-get install -y -qq minisign/);
  const sbom = binaries.steps.find((s) => s.uses?.startsWith("anchore/sbom-action@"));
  assert.ok(sbom, "an SBOM of the sources");
  assert.match(runs(binaries), /gh release create .*dist\/\* sbom\/isartor\.spdx\.json/);
  const build = image.steps.find((s) => s.uses?.startsWith("docker/build-push-action@"));
  assert.ok(build?.with);
  assert.deepEqual(String(build.with.platforms).split(","), ["linux/amd64", "linux/arm64"]);
  assert.equal(build.with.push, true);
  assert.equal(build.with.sbom, true);
  assert.match(String(build.with["build-args"]), /BAKE_MODEL=1/);
  assert.ok(image.steps.some((s) => s.uses?.startsWith("docker/setup-qemu-action@")));
  assert.ok(image.steps.some((s) => s.uses?.startsWith("anchore/sbom-action@") && s.with?.image));
  assert.equal(image.permissions?.packages, "write");
  for (const job of Object.values(wf.jobs)) {
    for (const s of job.steps) {
      if (s.uses) assert.match(s.uses, /^[\w.-]+\/[\w.-]+@v\d+$/, `pinned action: ${s.uses}`);
    }
  }
});

Deno.test("release workflow: compile builds every asset update and the install scripts fetch, never -A", async () => {
  const tasks = JSON.parse(await read("deno.json")).tasks as Record<string, string>;
  const outputs = Object.entries(tasks)
    .filter(([k]) => k.startsWith("compile:"))
    .map(([, v]) => /-o dist\/(\S+)/.exec(v)?.[1]);
  const expected = [
    assetName("linux", "x86_64"),
    assetName("linux", "aarch64"),
    assetName("darwin", "x86_64"),
    assetName("darwin", "aarch64"),
    assetName("windows", "x86_64"),
  ];
  assert.deepEqual(outputs.sort(), expected.sort());
  for (const v of Object.values(tasks)) assert.doesNotMatch(v, /(^|\s)(-A|--allow-all)(\s|$)/);
  const sh = await read("install.sh"), ps = await read("install.ps1");
  for (const a of expected.slice(0, 4)) {
    const [, os, arch] = a!.split("-");
    assert.match(sh, new RegExp(`os=${os}`));
    assert.match(sh, new RegExp(`arch=${arch}`));
  }
  assert.match(sh, /asset="isartor-\$os-\$arch"/);
  assert.ok(ps.includes(`$Asset = "${expected[4]}"`));
});

Deno.test("sign_release.sh: SHA256SUMS of every asset, signed, verified by isartor's verifier", async () => {
  const dir = await Deno.makeTempDir({ prefix: "isartor-sign-" });
  try {
    const key = await makeKey(dir, "release");
    const other = await makeKey(dir, "other");
    await Deno.mkdir(`${dir}/dist`);
    const files: Record<string, Uint8Array> = {
      "isartor-linux-x64": new TextEncoder().encode("linux binary"),
      "isartor-windows-x64.exe": new TextEncoder().encode("windows binary"),
      "isartor.js": new TextEncoder().encode("bundle"),
    };
    for (const [n, d] of Object.entries(files)) await Deno.writeFile(`${dir}/dist/${n}`, d);
    const sign = (pub: string) =>
      new Deno.Command("sh", {
        args: [`${REPO_ROOT}/.github/scripts/sign_release.sh`, `${dir}/dist`, "v0.2.0"],
        env: {
          PATH: Deno.env.get("PATH") ?? "",
          MINISIGN_SECRET_KEY: Deno.readTextFileSync(key.secretKeyPath),
          RELEASE_PUBLIC_KEY: pub,
        },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
    const ok = await sign(key.publicKey);
    assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
    const sums = await Deno.readFile(`${dir}/dist/SHA256SUMS`);
    const text = new TextDecoder().decode(sums);
    assert.equal(text.trim().split("\n").length, 3);
    for (const [n, d] of Object.entries(files)) {
      assert.equal(expectedSha256(text, n), await sha256Hex(d));
    }
    const sig = await Deno.readTextFile(`${dir}/dist/SHA256SUMS.minisig`);
    assert.equal(
      await verifyMinisign(sums, sig, parsePublicKey(key.publicKey)),
      "isartor v0.2.0 SHA256SUMS",
    );
    // A secret that does not belong to the committed key fails the release.
    const wrong = await sign(other.publicKey);
    assert.notEqual(wrong.code, 0);
    assert.match(new TextDecoder().decode(wrong.stderr), /does not belong to the release key/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Dockerfile: lints clean, pinned base, non-root, model baked outside /data, health check without a fixed port", async () => {
  const text = await read("Dockerfile");
  const problems = validate(text).map((d) => `${d.range.start.line + 1}: ${d.message}`);
  assert.deepEqual(problems, []);
  const df = DockerfileParser.parse(text);
  const ins = df.getInstructions();
  const of = (k: string) => ins.filter((i) => i.getKeyword() === k).map(args);
  assert.deepEqual(of("FROM"), ["denoland/deno:2.9.6"]);
  assert.deepEqual(of("USER"), ["deno"]);
  const userAt = ins.findIndex((i) => i.getKeyword() === "USER");
  const pullAt = ins.findIndex((i) => /models pull/.test(args(i)));
  assert.ok(userAt >= 0 && pullAt > userAt, "the model is pulled as the unprivileged user");
  assert.match(of("ENV").join(" "), /ISARTOR__MODELS_DIR=\/opt\/isartor\/models/);
  assert.deepEqual(of("VOLUME"), ['["/data"]']);
  const health = of("HEALTHCHECK")[0];
  assert.match(health, /"isartor", "__health"/);
  assert.doesNotMatch(health, /8080/, "the port comes from the configuration");
  assert.match(of("RUN").join("\n"), /deno install --frozen/);
});

Deno.test("Dockerfile: its model step fails the build when a file's checksum does not match", async () => {
  const manifest = KNOWN_MODELS[0];
  const step = DockerfileParser.parse(await read("Dockerfile")).getInstructions()
    .map(args).find((a) => a.includes("models pull"))!;
  const command = /then (deno task isartor models pull[^;]*);/.exec(step)![1].trim().split(/\s+/);
  assert.deepEqual(command.slice(0, 3), ["deno", "task", "isartor"]);
  // A hub that serves every file at its pinned size, but with the wrong bytes.
  const sizes = new Map(manifest.files.map((f) => [f.path, f.size]));
  const hub = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname.split("/resolve/")[1]?.split("/").slice(1).join("/");
    const size = path ? sizes.get(path) : undefined;
    return size === undefined
      ? new Response("no", { status: 404 })
      : new Response(new Uint8Array(size));
  });
  const user = await cliSandbox();
  try {
    const r = await user.run(command.slice(3), {
      env: {
        HF_ENDPOINT: `http://127.0.0.1:${hub.addr.port}`,
        ISARTOR__MODELS_DIR: `${user.home}/models`,
      },
    });
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stdout + r.stderr, /SHA-256|sha256|checksum/i);
  } finally {
    await user.cleanup();
    await hub.shutdown();
  }
});

Deno.test("health check: follows the configured port, and the port the gateway bound", async () => {
  assert.equal(probeUrl("0.0.0.0:9191"), "http://127.0.0.1:9191");
  assert.equal(probeUrl("0.0.0.0:8080", "http://0.0.0.0:9292"), "http://127.0.0.1:9292");
  assert.equal(probeUrl("[::]:8080"), "http://[::1]:8080");
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new URL(req.url).pathname === "/healthz"
        ? Response.json({ ok: true })
        : new Response(null, { status: 404 }),
  );
  const user = await cliSandbox();
  try {
    const up = await user.run(["__health"], {
      env: { ISARTOR__HOST_PORT: `0.0.0.0:${server.addr.port}` },
    });
    assert.equal(up.code, 0, up.stderr);
    await server.shutdown();
    const down = await user.run(["__health"], {
      env: { ISARTOR__HOST_PORT: `0.0.0.0:${server.addr.port}` },
    });
    assert.equal(down.code, 1);
    assert.match(
      down.stderr,
      new RegExp(`no healthy gateway at http://127\\.0\\.0\\.1:${server.addr.port}/healthz`),
    );
  } finally {
    await user.cleanup();
  }
});

Deno.test("one repository and one release key: install scripts, docs and update agree", async () => {
  const sh = await read("install.sh"), ps = await read("install.ps1");
  assert.ok(sh.includes(`REPO="\${ISARTOR_REPO:-${REPOSITORY}}"`));
  assert.ok(ps.includes(`else { "${REPOSITORY}" }`));
  assert.ok(sh.includes(`RELEASE_PUBLIC_KEY="${RELEASE_PUBLIC_KEY}"`));
  assert.ok(ps.includes(`$ReleasePublicKey = "${RELEASE_PUBLIC_KEY}"`));
  const install = await read("docs/install.md");
  assert.ok(install.includes(RELEASE_PUBLIC_KEY), "docs/install.md shows the key");
  // Every GitHub repository address in the docs, README and scripts is ours.
  for (
    const p of ["README.md", "install.sh", "install.ps1", "docs/install.md", "docs/quickstart.md"]
  ) {
    const text = await read(p);
    for (
      const m of text.matchAll(
        /github(?:usercontent)?\.com\/([\w.-]+\/[\w.-]+?)(?:\.git|\/|\s|\)|$)/g,
      )
    ) {
      if (m[1].startsWith("$") || m[1] === "releases/latest") continue;
      assert.equal(m[1], REPOSITORY, `${p}: ${m[0]}`);
    }
  }
  assert.equal(REPOSITORY_URL, `https://github.com/${REPOSITORY}`);
  parsePublicKey(RELEASE_PUBLIC_KEY);
});

Deno.test("nothing calls home: the release API and asset hosts appear only in isartor update's code", async () => {
  const hits: string[] = [];
  for (const dir of ["src", "cli"]) {
    const walk = async (d: string): Promise<void> => {
      for await (const e of Deno.readDir(`${REPO_ROOT}/${d}`)) {
        const p = `${d}/${e.name}`;
        if (e.isDirectory) await walk(p);
        else if (
          p.endsWith(".ts") &&
          /releases\/(latest|tags)|release-assets\.|objects\.githubusercontent/.test(await read(p))
        ) {
          hits.push(p);
        }
      }
    };
    await walk(dir);
  }
  assert.deepEqual(hits.sort(), ["cli/permissions.ts", "cli/update/release.ts"]);
});
