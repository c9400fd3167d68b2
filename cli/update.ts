/**
 * `isartor update`: replaces this release binary with another release, after
 * checking the minisign signature of the release's `SHA256SUMS` against the
 * key built in and the download's SHA-256 against that file. Nothing here runs
 * unless the user types `isartor update`: no background checks.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { VERSION } from "../src/version.ts";
import { type CliIO, EXIT, style, UsageError } from "./io.ts";
import { updateHosts } from "./permissions.ts";
import { downloadFile, ModelError } from "../src/embed/model_download.ts";
import { progressRenderer } from "./models.ts";
import { fetchBytes, guardedFetch } from "./update/download.ts";
import { parsePublicKey, SignatureError, verifyMinisign } from "./update/minisign.ts";
import {
  assetName,
  compareVersions,
  expectedSha256,
  findRelease,
  SUMS_FILE,
  SUMS_SIGNATURE,
} from "./update/release.ts";
import { RELEASE_PUBLIC_KEY } from "./update/release_key.ts";
import { binaryPaths, installBinary, rollbackBinary } from "./update/replace.ts";

/** Help for `isartor update`. */
export const usage = `isartor update [options]

Replaces this isartor binary with the latest release (or --version V). The
release's SHA256SUMS must carry a valid minisign signature by the release key
built into isartor, and the download must match its SHA-256 there; on any
mismatch nothing is replaced. The current binary is kept as <binary>.previous.
An interrupted download resumes on the next run. isartor never checks for
updates by itself: only this command contacts the release host.

Options:
      --version V   install release V (also older ones)
      --dry-run     find, download and verify, but do not replace
      --force       reinstall even when already at that version
      --rollback    go back to the binary kept before the last update
  -h, --help        show this help

Examples:
  isartor update
  isartor update --dry-run
  isartor update --version 0.2.0
  isartor update --rollback`;

/** What `isartor update` works on; tests replace each part. */
export interface UpdateDeps {
  /** The binary to replace. */
  exePath: string;
  env: Record<string, string | undefined>;
  /** The release key (minisign, base64). */
  publicKey: string;
  os: string;
  arch: string;
  fetch: typeof fetch;
  /** Extra attempts after a cut download within one run (default 3). */
  retries?: number;
}

function defaultDeps(): UpdateDeps {
  return {
    exePath: Deno.execPath(),
    env: Deno.env.toObject(),
    publicKey: RELEASE_PUBLIC_KEY,
    os: Deno.build.os,
    arch: Deno.build.arch,
    fetch,
  };
}

function refuse(io: CliIO, why: string): number {
  io.err(style(io, `isartor update: refusing to update: ${why}`, "red"));
  return EXIT.failure;
}

function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Runs `isartor update`. */
export async function runUpdate(
  args: string[],
  io: CliIO,
  deps: UpdateDeps = defaultDeps(),
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      version: { type: "string" },
      "dry-run": { type: "boolean" },
      force: { type: "boolean" },
      rollback: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    io.out(usage);
    return EXIT.ok;
  }
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.rollback && (values.version || values["dry-run"] || values.force)) {
    throw new UsageError("--rollback takes no other option");
  }
  const exe = deps.exePath;
  if (/^deno(\.exe)?$/.test(exe.split(/[\\/]/).pop() ?? "")) {
    io.err(
      "isartor update: this isartor runs from source with deno; update the clone with `git pull`, " +
        "or install a release binary with install.sh / install.ps1",
    );
    return EXIT.failure;
  }
  if (values.rollback) {
    await rollbackBinary(exe, deps.os === "windows");
    io.out(`Rolled back ${exe} to the binary kept before the last update.`);
    io.out(`(The replaced one is now ${binaryPaths(exe).previous}; --rollback again swaps back.)`);
    return EXIT.ok;
  }
  const asset = assetName(deps.os, deps.arch);
  if (!asset) return refuse(io, `no release binary is built for ${deps.os} ${deps.arch}`);

  const fetcher = guardedFetch(updateHosts(deps.env), deps.fetch);
  const release = await findRelease(fetcher, deps.env, values.version);
  const cmp = compareVersions(release.version, VERSION);
  if (!values.force && cmp === 0) {
    io.out(
      `isartor ${VERSION} is ${values.version ? "already installed" : "up to date"}` +
        " (--force reinstalls it).",
    );
    return EXIT.ok;
  }
  if (!values.force && !values.version && cmp < 0) {
    io.out(`isartor ${VERSION} is newer than the latest release (${release.tag}); nothing to do.`);
    return EXIT.ok;
  }
  const find = (name: string) => release.assets.find((a) => a.name === name);
  const bin = find(asset), sums = find(SUMS_FILE), sig = find(SUMS_SIGNATURE);
  if (!bin) return refuse(io, `release ${release.tag} has no ${asset}`);
  if (!sums || !sig) {
    return refuse(io, `release ${release.tag} has no ${!sums ? SUMS_FILE : SUMS_SIGNATURE}`);
  }

  const sumsBytes = await fetchBytes(fetcher, sums.url);
  const sigText = new TextDecoder().decode(await fetchBytes(fetcher, sig.url));
  let comment: string;
  try {
    comment = await verifyMinisign(sumsBytes, sigText, parsePublicKey(deps.publicKey));
  } catch (e) {
    if (e instanceof SignatureError) {
      return refuse(io, `${SUMS_FILE} of ${release.tag}: ${e.message}`);
    }
    throw e;
  }
  // The signed comment names the release (sign_release.sh): an older release's
  // valid SHA256SUMS served under a newer tag is a downgrade, refused.
  if (!comment.split(/\s+/).includes(release.tag)) {
    return refuse(
      io,
      `${SUMS_FILE} under ${release.tag} is signed for "${comment}", not for ${release.tag}`,
    );
  }
  const expected = expectedSha256(new TextDecoder().decode(sumsBytes), asset);
  if (!expected) return refuse(io, `${SUMS_FILE} of ${release.tag} has no entry for ${asset}`);
  io.out(`${SUMS_FILE} of ${release.tag}: signature verified (minisign, release key).`);

  if (!bin.size) return refuse(io, `release ${release.tag} does not list the size of ${asset}`);
  // The verified file lands beside the binary (one filesystem: the final rename is atomic).
  const dir = exe.replace(/[\\/][^\\/]*$/, "") || ".";
  const fresh = `${dir}/.${asset}-${release.tag}`;
  io.out(`Downloading ${asset} ${release.tag} (${mib(bin.size)}) ...`);
  const progress = progressRenderer(io);
  let outcome: string;
  try {
    // The model downloader's resumable, verified fetch: `.part` + Range, retries, then
    // size and SHA-256 checked before the file is renamed into place (else deleted).
    outcome = await downloadFile(
      bin.url,
      fresh,
      { path: asset, size: bin.size, sha256: expected },
      {
        fetch: fetcher as typeof fetch,
        retries: deps.retries ?? 3,
        onProgress: (p) => progress.event({ kind: "progress", ...p }),
      },
    );
  } catch (e) {
    if (e instanceof ModelError) return refuse(io, e.message);
    if (e instanceof Deno.errors.PermissionDenied) {
      return refuse(
        io,
        `cannot write beside ${exe} (${(e as Error).message}); run it as the user who installed it`,
      );
    }
    throw e;
  } finally {
    progress.end();
  }
  if (outcome === "resumed") io.out("(resumed an interrupted download)");
  io.out(`${asset}: SHA-256 verified (${expected}).`);
  if (values["dry-run"]) {
    await Deno.remove(fresh).catch(() => {});
    io.out(`--dry-run: ${exe} not replaced (would become ${release.tag}).`);
    return EXIT.ok;
  }
  await installBinary(exe, fresh, deps.os === "windows");
  io.out(style(io, `Updated ${exe}: ${VERSION} -> ${release.version}.`, "green"));
  io.out(`The previous binary is ${binaryPaths(exe).previous}; undo: isartor update --rollback`);
  return EXIT.ok;
}
