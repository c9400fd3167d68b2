/**
 * install.sh as a user runs it, against a local release server on 127.0.0.1:
 * the signature of SHA256SUMS is checked with the real minisign, and without
 * it with OpenSSL 3; a tampered SUMS, another key's signature, a tampered
 * binary or a missing signature install nothing. The script's release key is
 * swapped for a test key in a copy; nothing else is changed.
 */

import assert from "node:assert/strict";
import { REPO as REPO_ROOT } from "../support/cli_runner.ts";
import {
  makeKey,
  makeRelease,
  type ReleaseServer,
  startReleaseServer,
  type TestKey,
} from "../support/release_server.ts";
import { RELEASE_PUBLIC_KEY } from "../../cli/update/release_key.ts";

const ASSET = Deno.build.arch === "aarch64" ? "isartor-linux-arm64" : "isartor-linux-x64";
const BIN = new TextEncoder().encode("#!/bin/sh\necho isartor 0.2.0\n");
const linux = Deno.build.os === "linux";

interface Ctx {
  dir: string;
  key: TestKey;
  other: TestKey;
  server: ReleaseServer;
  /** A PATH with every program of PATH except minisign. */
  noMinisignPath: string;
  install(opts?: { path?: string; args?: string[] }): Promise<{ code: number; out: string }>;
}

async function pathWithout(dir: string, name: string): Promise<string> {
  const bin = `${dir}/path-bin`;
  await Deno.mkdir(bin);
  const seen = new Set<string>();
  for (const p of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      for await (const e of Deno.readDir(p)) {
        if (e.name === name || seen.has(e.name)) continue;
        seen.add(e.name);
        await Deno.symlink(`${p}/${e.name}`, `${bin}/${e.name}`);
      }
    } catch { /* a missing PATH entry */ }
  }
  return bin;
}

async function withCtx(fn: (c: Ctx) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "isartor-install-" });
  const key = await makeKey(dir, "release");
  const other = await makeKey(dir, "other");
  const server = startReleaseServer([await makeRelease(dir, key, "v0.2.0", { [ASSET]: BIN })]);
  const script = (await Deno.readTextFile(`${REPO_ROOT}/install.sh`))
    .replace(RELEASE_PUBLIC_KEY, key.publicKey);
  await Deno.writeTextFile(`${dir}/install.sh`, script);
  const noMinisignPath = await pathWithout(dir, "minisign");
  let n = 0;
  const install = async (opts: { path?: string; args?: string[] } = {}) => {
    const prefix = `${dir}/prefix-${n++}`;
    const out = await new Deno.Command("sh", {
      args: [`${dir}/install.sh`, "--prefix", prefix, ...(opts.args ?? [])],
      env: {
        PATH: opts.path ?? Deno.env.get("PATH") ?? "",
        HOME: dir,
        ISARTOR_DOWNLOAD_BASE: `${server.url}/storage/v0.2.0`,
      },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    let installed = false;
    try {
      installed = (await Deno.readTextFile(`${prefix}/isartor`)) === new TextDecoder().decode(BIN);
    } catch { /* not installed */ }
    if (out.code === 0) assert.ok(installed, `exit 0 must mean installed:\n${text}`);
    else assert.ok(!installed, `a failure must install nothing:\n${text}`);
    return { code: out.code, out: text };
  };
  try {
    await fn({ dir, key, other, server, noMinisignPath, install });
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function tamperSums(s: ReleaseServer) {
  const f = s.releases[0].files;
  f.SHA256SUMS = new TextEncoder().encode(
    new TextDecoder().decode(f.SHA256SUMS).replace(/^[0-9a-f]/, (c) => c === "0" ? "1" : "0"),
  );
}

Deno.test({
  name: "install.sh: a signed release installs, verified by minisign and by OpenSSL",
  ignore: !linux,
  fn: () =>
    withCtx(async (c) => {
      const viaMinisign = await c.install();
      assert.equal(viaMinisign.code, 0, viaMinisign.out);
      assert.match(viaMinisign.out, /Signature verified \(minisign, release key\)/);
      assert.match(viaMinisign.out, /Checksum verified/);
      const viaOpenssl = await c.install({ path: c.noMinisignPath });
      assert.equal(viaOpenssl.code, 0, viaOpenssl.out);
      assert.match(viaOpenssl.out, /Signature verified \(OpenSSL, release key\)/);
    }),
});

Deno.test({
  name: "install.sh: a tampered SHA256SUMS installs nothing (both verifiers)",
  ignore: !linux,
  fn: () =>
    withCtx(async (c) => {
      tamperSums(c.server);
      for (const path of [undefined, c.noMinisignPath]) {
        const r = await c.install({ path });
        assert.notEqual(r.code, 0);
        assert.match(r.out, /signature of SHA256SUMS does not verify .*not installing/);
      }
    }),
});

Deno.test({
  name: "install.sh: SHA256SUMS signed by another key installs nothing (both verifiers)",
  ignore: !linux,
  fn: () =>
    withCtx(async (c) => {
      c.server.releases[0] = await makeRelease(c.dir, c.other, "v0.2.0", { [ASSET]: BIN });
      for (const path of [undefined, c.noMinisignPath]) {
        const r = await c.install({ path });
        assert.notEqual(r.code, 0);
        assert.match(r.out, /does not verify with the release key: not installing/);
      }
      assert.match((await c.install({ path: c.noMinisignPath })).out, /signed by another key/);
    }),
});

Deno.test({
  name: "install.sh: a tampered binary or a missing signature installs nothing",
  ignore: !linux,
  fn: () =>
    withCtx(async (c) => {
      const files = c.server.releases[0].files;
      files[ASSET] = new TextEncoder().encode("#!/bin/sh\necho evil\n");
      const tampered = await c.install();
      assert.notEqual(tampered.code, 0);
      assert.match(tampered.out, /checksum mismatch for isartor-linux-\w+ .*not installing/);
      files[ASSET] = BIN;
      delete files["SHA256SUMS.minisig"];
      const unsigned = await c.install();
      assert.notEqual(unsigned.code, 0);
      assert.match(unsigned.out, /cannot download SHA256SUMS\.minisig .*not installing/);
      const skipped = await c.install({ args: ["--skip-signature"] });
      assert.equal(skipped.code, 0, skipped.out);
      assert.match(skipped.out, /WARNING: --skip-signature/);
    }),
});

Deno.test({
  name: "install.sh passes shellcheck",
  ignore: !linux,
  fn: async () => {
    const out = await new Deno.Command("shellcheck", {
      args: [`${REPO_ROOT}/install.sh`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stdout));
  },
});
