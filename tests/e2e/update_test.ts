/**
 * `isartor update` against a local release server on 127.0.0.1 (GitHub's API
 * shape, signed with the real minisign): a good update, a tampered binary, a
 * tampered SHA256SUMS, a signature by another key, an interrupted download
 * (resumed), rollback, and a redirect off the allow-list.
 */

import assert from "node:assert/strict";
import { runUpdate, type UpdateDeps } from "../../cli/update.ts";
import { captureIO } from "../support/capture_io.ts";
import { UPDATE_API_ENV, updateHosts } from "../../cli/permissions.ts";
import { VERSION } from "../../src/version.ts";
import {
  makeKey,
  makeRelease,
  type ReleaseServer,
  startReleaseServer,
  type TestKey,
} from "../support/release_server.ts";

const ASSET = "isartor-linux-x64";
const OLD = new TextEncoder().encode("#!/bin/sh\necho old isartor\n");
const NEW = new TextEncoder().encode("#!/bin/sh\necho new isartor 0.2.0\n".repeat(4000));

interface World {
  dir: string;
  exe: string;
  key: TestKey;
  other: TestKey;
  server: ReleaseServer;
  update(args?: string[]): Promise<{ code: number; out: string; err: string }>;
}

async function withWorld(fn: (w: World) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "isartor-update-" });
  const key = await makeKey(dir, "release");
  const other = await makeKey(dir, "other");
  const server = startReleaseServer([await makeRelease(dir, key, "v0.2.0", { [ASSET]: NEW })]);
  const exe = `${dir}/bin/isartor`;
  await Deno.mkdir(`${dir}/bin`);
  await Deno.writeFile(exe, OLD, { mode: 0o755 });
  const update = async (args: string[] = []) => {
    const { io, text, errors } = captureIO();
    const deps: UpdateDeps = {
      exePath: exe,
      env: { [UPDATE_API_ENV]: server.url },
      publicKey: key.publicKey,
      os: "linux",
      arch: "x86_64",
      fetch,
    };
    let code: number;
    try {
      code = await runUpdate(args, io, deps);
    } catch (e) {
      io.err(`isartor update: ${(e as Error).message}`);
      code = 1;
    }
    return { code, out: text(), err: errors() };
  };
  try {
    await fn({ dir, exe, key, other, server, update });
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function leftovers(dir: string): Promise<string[]> {
  const names = [];
  for await (const e of Deno.readDir(`${dir}/bin`)) names.push(e.name);
  return names.sort();
}

Deno.test("update: a signed release replaces the binary and keeps the previous one", async () => {
  await withWorld(async (w) => {
    const r = await w.update();
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /signature verified/);
    assert.match(r.out, /SHA-256 verified/);
    assert.match(r.out, new RegExp(`${VERSION} -> 0\\.2\\.0`));
    assert.deepEqual(await Deno.readFile(w.exe), NEW);
    assert.deepEqual(await Deno.readFile(`${w.exe}.previous`), OLD);
    assert.equal((await Deno.stat(w.exe)).mode! & 0o777, 0o755);
    assert.deepEqual(await leftovers(w.dir), ["isartor", "isartor.previous"]);
    // The asset was fetched through the redirect, as from GitHub.
    assert.ok(w.server.log.some((l) => l.path.startsWith("/storage/v0.2.0/")));
  });
});

Deno.test("update: a tampered binary is refused, the old binary stays, nothing is left", async () => {
  await withWorld(async (w) => {
    w.server.releases[0].files[ASSET] = new TextEncoder().encode("#!/bin/sh\necho evil\n");
    const r = await w.update();
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /refusing to update: checksum mismatch for isartor-linux-x64 .*SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}; the file was deleted/,
    );
    assert.deepEqual(await Deno.readFile(w.exe), OLD);
    assert.deepEqual(await leftovers(w.dir), ["isartor"]);
  });
});

Deno.test("update: a tampered SHA256SUMS fails its signature before any download", async () => {
  await withWorld(async (w) => {
    const files = w.server.releases[0].files;
    files.SHA256SUMS = new TextEncoder().encode(
      new TextDecoder().decode(files.SHA256SUMS).replace(/^[0-9a-f]/, (c) => c === "0" ? "1" : "0"),
    );
    const r = await w.update();
    assert.equal(r.code, 1);
    assert.match(r.err, /refusing to update: SHA256SUMS of v0\.2\.0: the signature does not match/);
    assert.ok(!w.server.log.some((l) => l.path.endsWith(`/${ASSET}`)), "binary not downloaded");
    assert.deepEqual(await Deno.readFile(w.exe), OLD);
  });
});

Deno.test("update: SHA256SUMS signed by another key is refused", async () => {
  await withWorld(async (w) => {
    w.server.releases[0] = await makeRelease(w.dir, w.other, "v0.2.0", { [ASSET]: NEW });
    const r = await w.update();
    assert.equal(r.code, 1);
    assert.match(r.err, /signed by key [0-9A-F]{16}, not by the release key [0-9A-F]{16}/);
    assert.deepEqual(await Deno.readFile(w.exe), OLD);
  });
});

Deno.test("update: a missing signature file is refused", async () => {
  await withWorld(async (w) => {
    delete w.server.releases[0].files["SHA256SUMS.minisig"];
    const r = await w.update();
    assert.equal(r.code, 1);
    assert.match(r.err, /refusing to update: release v0\.2\.0 has no SHA256SUMS\.minisig/);
  });
});

Deno.test("update: a cut download resumes within the run (Range)", async () => {
  await withWorld(async (w) => {
    w.server.cutNext.set(ASSET, 1);
    const r = await w.update();
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /resumed/);
    const ranges = w.server.log.filter((l) => l.path.startsWith("/storage/") && l.range);
    assert.equal(ranges.length, 1);
    assert.deepEqual(await Deno.readFile(w.exe), NEW);
  });
});

Deno.test("update: a download cut on every try fails cleanly, old binary intact; the next run resumes", async () => {
  await withWorld(async (w) => {
    w.server.cutNext.set(ASSET, 100);
    const first = await w.update();
    assert.equal(first.code, 1);
    assert.match(
      first.err,
      /refusing to update: download of isartor-linux-x64 did not finish: .*run the command again to resume/,
    );
    assert.deepEqual(await Deno.readFile(w.exe), OLD, "old binary intact");
    const part = `${w.dir}/bin/.${ASSET}-v0.2.0.part`;
    const partial = (await Deno.stat(part)).size;
    assert.ok(partial > 0 && partial < NEW.length, `partial ${partial}`);

    w.server.cutNext.clear();
    w.server.log.length = 0;
    const second = await w.update();
    assert.equal(second.code, 0, second.err);
    assert.match(second.out, /resumed/);
    const ranges = w.server.log.filter((l) => l.path.startsWith("/storage/") && l.range);
    assert.deepEqual(ranges.map((l) => l.range), [`bytes=${partial}-`]);
    assert.deepEqual(await Deno.readFile(w.exe), NEW);
    assert.deepEqual(await leftovers(w.dir), ["isartor", "isartor.previous"]);
  });
});

Deno.test("update: --rollback swaps back to the previous binary, twice swaps again", async () => {
  await withWorld(async (w) => {
    const none = await w.update(["--rollback"]);
    assert.equal(none.code, 1);
    assert.match(none.err, /nothing to roll back to/);
    assert.equal((await w.update()).code, 0);
    const back = await w.update(["--rollback"]);
    assert.equal(back.code, 0, back.err);
    assert.deepEqual(await Deno.readFile(w.exe), OLD);
    assert.deepEqual(await Deno.readFile(`${w.exe}.previous`), NEW);
    assert.equal((await w.update(["--rollback"])).code, 0);
    assert.deepEqual(await Deno.readFile(w.exe), NEW);
    assert.deepEqual(await leftovers(w.dir), ["isartor", "isartor.previous"]);
  });
});

Deno.test("update: Windows-style swap moves the old binary aside first", async () => {
  await withWorld(async (w) => {
    const { installBinary, rollbackBinary } = await import("../../cli/update/replace.ts");
    const fresh = `${w.dir}/bin/new.part`;
    await Deno.writeFile(fresh, NEW);
    await installBinary(w.exe, fresh, true);
    assert.deepEqual(await Deno.readFile(w.exe), NEW);
    assert.deepEqual(await Deno.readFile(`${w.exe}.previous`), OLD);
    await rollbackBinary(w.exe, true);
    assert.deepEqual(await Deno.readFile(w.exe), OLD);
    assert.deepEqual(await leftovers(w.dir), ["isartor", "isartor.previous"]);
  });
});

Deno.test("update: --dry-run verifies without replacing; --version picks a tag; up to date is a no-op", async () => {
  await withWorld(async (w) => {
    const dry = await w.update(["--dry-run"]);
    assert.equal(dry.code, 0, dry.err);
    assert.match(dry.out, /--dry-run: .* not replaced/);
    assert.deepEqual(await Deno.readFile(w.exe), OLD);
    assert.deepEqual(await leftovers(w.dir), ["isartor"]);

    const missing = await w.update(["--version", "9.9.9"]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no release v9\.9\.9/);

    w.server.releases.push(await makeRelease(w.dir, w.key, `v${VERSION}`, { [ASSET]: OLD }));
    const same = await w.update();
    assert.equal(same.code, 0);
    assert.match(same.out, /up to date/);
    assert.ok(!w.server.log.some((l) => l.path.includes(`v${VERSION}/${ASSET}`)));
  });
});

Deno.test("update: a redirect to a host off the allow-list is refused before contact", async () => {
  await withWorld(async (w) => {
    const port = new URL(w.server.url).port;
    const { guardedFetch } = await import("../../cli/update/download.ts");
    const f = guardedFetch(updateHosts({ [UPDATE_API_ENV]: w.server.url }));
    await assert.rejects(
      () => f(`http://localhost:${port}/x`),
      /refusing to contact localhost:\d+: not a release host/,
    );
    assert.deepEqual(updateHosts({}).sort(), [
      "api.github.com:443",
      "github.com:443",
      "objects.githubusercontent.com:443",
      "release-assets.githubusercontent.com:443",
    ]);
  });
});

Deno.test("update: from source (deno runs cli/main.ts) it refuses and says what to do", async () => {
  const c = captureIO();
  const code = await runUpdate([], c.io, {
    exePath: "/usr/bin/deno",
    env: {},
    publicKey: "",
    os: "linux",
    arch: "x86_64",
    fetch: () => Promise.reject(new Error("must not call home")),
  });
  assert.equal(code, 1);
  assert.match(c.errors(), /runs from source .*git pull/);
});

Deno.test({
  name: "update: replaces a binary while it runs (rename, not write: no ETXTBSY)",
  ignore: Deno.build.os !== "linux",
  fn: () =>
    withWorld(async (w) => {
      // A real running executable at the binary's path.
      await Deno.copyFile("/bin/sleep", w.exe);
      const running = new Deno.Command(w.exe, { args: ["30"] }).spawn();
      try {
        // Writing into a running executable is refused by the kernel...
        await assert.rejects(() => Deno.writeFile(w.exe, NEW), /busy/i);
        // ...so update renames the verified file over it instead.
        const r = await w.update();
        assert.equal(r.code, 0, r.err);
        assert.deepEqual(await Deno.readFile(w.exe), NEW);
        assert.deepEqual(
          await Deno.readFile(`${w.exe}.previous`),
          await Deno.readFile("/bin/sleep"),
        );
        assert.equal(
          await Promise.race([running.status.then(() => "exited"), Promise.resolve("running")]),
          "running",
        );
      } finally {
        running.kill();
        await running.status;
      }
    }),
});

Deno.test("update: isartor --help lists update and setup; update --help shows the flags", async () => {
  const { main } = await import("../../cli/main.ts");
  const c = captureIO();
  assert.equal(await main(["--help"], c.io), 0);
  assert.match(c.text(), /\bupdate\b.*signed release/);
  assert.match(c.text(), /\bsetup\b.*guided first run/);
  const help = captureIO();
  assert.equal(await main(["update", "--help"], help.io), 0);
  for (const flag of ["--version V", "--dry-run", "--force", "--rollback"]) {
    assert.ok(help.text().includes(flag), flag);
  }
});

Deno.test("update: after a cut, a server that ignores Range gets the whole file again", async () => {
  await withWorld(async (w) => {
    w.server.cutNext.set(ASSET, 100);
    assert.equal((await w.update()).code, 1);
    w.server.cutNext.clear();
    w.server.ignoreRange = true;
    const r = await w.update();
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.out, /resumed/);
    assert.deepEqual(await Deno.readFile(w.exe), NEW);
  });
});

Deno.test("update: an older release's signed SHA256SUMS under a newer tag is a refused downgrade", async () => {
  await withWorld(async (w) => {
    const old = await makeRelease(w.dir, w.key, "v0.1.5", { [ASSET]: NEW });
    // A mirror replays v0.1.5's genuine, signed files as v0.2.0.
    w.server.releases[0] = { tag: "v0.2.0", files: old.files };
    const r = await w.update();
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /SHA256SUMS under v0\.2\.0 is signed for "isartor v0\.1\.5 SHA256SUMS", not for v0\.2\.0/,
    );
    assert.deepEqual(await Deno.readFile(w.exe), OLD);
  });
});
