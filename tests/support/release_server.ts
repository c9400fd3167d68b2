/**
 * A local release server on 127.0.0.1 in the shape of GitHub's: the releases
 * API (`/repos/OWNER/NAME/releases/latest`, `/releases/tags/vX`) and asset
 * downloads that redirect once (as GitHub's do) and honour `Range`. Releases
 * are signed with the real `minisign` tool (Debian's package), so the
 * verifier is checked against the reference implementation.
 *
 * @module
 */

import { REPOSITORY } from "../../src/version.ts";

/** A minisign key pair made by `minisign -G` (no password). */
export interface TestKey {
  /** The base64 public key line. */
  publicKey: string;
  secretKeyPath: string;
}

async function run(cmd: string, args: string[], stdin?: string): Promise<string> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed: ${text}`);
  return text;
}

/** Makes a key pair in `dir`. */
export async function makeKey(dir: string, name: string): Promise<TestKey> {
  const pub = `${dir}/${name}.pub`, sec = `${dir}/${name}.sec`;
  await run("minisign", ["-G", "-W", "-f", "-p", pub, "-s", sec]);
  const lines = (await Deno.readTextFile(pub)).trim().split("\n");
  return { publicKey: lines[lines.length - 1], secretKeyPath: sec };
}

/** Signs `data` with minisign (trusted comment as sign_release.sh writes it); returns the `.minisig` text. */
export async function sign(
  dir: string,
  key: TestKey,
  data: Uint8Array,
  comment = "isartor SHA256SUMS",
): Promise<string> {
  const file = `${dir}/to-sign-${crypto.randomUUID()}`;
  await Deno.writeFile(file, data);
  await run("minisign", ["-S", "-s", key.secretKeyPath, "-m", file, "-t", comment]);
  const sig = await Deno.readTextFile(`${file}.minisig`);
  await Deno.remove(file);
  await Deno.remove(`${file}.minisig`);
  return sig;
}

/** The SHA-256 of bytes, hex. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** One release: its files by name. */
export interface TestRelease {
  tag: string;
  files: Record<string, Uint8Array>;
}

/** Builds a release of `binaries` with SHA256SUMS signed by `key`. */
export async function makeRelease(
  dir: string,
  key: TestKey,
  tag: string,
  binaries: Record<string, Uint8Array>,
): Promise<TestRelease> {
  const lines = [];
  for (const [name, data] of Object.entries(binaries)) {
    lines.push(`${await sha256Hex(data)}  ${name}`);
  }
  const sums = new TextEncoder().encode(lines.join("\n") + "\n");
  const sig = await sign(dir, key, sums, `isartor ${tag} SHA256SUMS`);
  return {
    tag,
    files: { ...binaries, SHA256SUMS: sums, "SHA256SUMS.minisig": new TextEncoder().encode(sig) },
  };
}

/** The running server. */
export interface ReleaseServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  releases: TestRelease[];
  /** Cut the next N downloads of a file after half its bytes. */
  cutNext: Map<string, number>;
  /** Answer every download whole, as a server without Range support does. */
  ignoreRange: boolean;
  /** Each request: method, path and Range header. */
  log: { path: string; range: string | null }[];
  close(): Promise<void>;
}

/** Starts the server; the last release in `releases` is "latest" (the array may be changed later). */
export function startReleaseServer(releases: TestRelease[]): ReleaseServer {
  const cutNext = new Map<string, number>();
  const log: ReleaseServer["log"] = [];
  let url = "";
  const api = `/repos/${REPOSITORY}/releases/`;
  const describe = (r: TestRelease) => ({
    tag_name: r.tag,
    name: r.tag,
    assets: Object.entries(r.files).map(([name, data]) => ({
      name,
      size: data.length,
      browser_download_url: `${url}/${REPOSITORY}/releases/download/${r.tag}/${name}`,
    })),
  });
  const out: ReleaseServer = {
    url: "",
    releases,
    cutNext,
    ignoreRange: false,
    log,
    close: () => server.shutdown(),
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    log.push({ path, range: req.headers.get("range") });
    if (path === `${api}latest`) {
      const r = releases[releases.length - 1];
      return r ? Response.json(describe(r)) : new Response("{}", { status: 404 });
    }
    if (path.startsWith(`${api}tags/`)) {
      const r = releases.find((x) => x.tag === path.slice(`${api}tags/`.length));
      return r
        ? Response.json(describe(r))
        : Response.json({ message: "Not Found" }, { status: 404 });
    }
    // GitHub redirects asset downloads to a storage host; here, to /storage/ on the same server.
    const dl = /^\/.+\/releases\/download\/([^/]+)\/([^/]+)$/.exec(path);
    if (dl) return Response.redirect(`${url}/storage/${dl[1]}/${dl[2]}`, 302);
    const st = /^\/storage\/([^/]+)\/([^/]+)$/.exec(path);
    const data = st && releases.find((x) => x.tag === st[1])?.files[st[2]];
    if (!st || !data) return new Response("not found", { status: 404 });
    const name = st[2];
    let start = 0;
    const range = out.ignoreRange ? null : /^bytes=(\d+)-$/.exec(req.headers.get("range") ?? "");
    if (range) start = Number(range[1]);
    if (start >= data.length && range) return new Response(null, { status: 416 });
    const body = data.subarray(start);
    const headers: Record<string, string> = { "content-length": String(body.length) };
    if (range) headers["content-range"] = `bytes ${start}-${data.length - 1}/${data.length}`;
    const cuts = cutNext.get(name) ?? 0;
    if (cuts > 0) {
      cutNext.set(name, cuts - 1);
      const half = body.subarray(0, Math.floor(body.length / 2));
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(half);
          setTimeout(() => c.error(new Error("cut")), 20);
        },
      });
      return new Response(stream, { status: range ? 206 : 200, headers });
    }
    return new Response(body as Uint8Array<ArrayBuffer>, { status: range ? 206 : 200, headers });
  });
  url = `http://127.0.0.1:${server.addr.port}`;
  out.url = url;
  return out;
}
