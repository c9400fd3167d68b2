/**
 * Fetching one model file: resumable HTTP download into a `.part` file
 * (`Range: bytes=N-`), or a copy from a local folder; then a size and SHA-256
 * check against the pinned manifest and an atomic rename into place. A file
 * that fails its check is deleted, never left where the loader would find it.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { ModelFile } from "./model_files.ts";

/** A model problem, phrased for the person who has to fix it. */
export class ModelError extends Error {
  override name = "ModelError";
}

/** Progress of one file. */
export interface FileProgress {
  /** Path of the file inside the model. */
  path: string;
  /** Bytes on disk so far (including bytes kept from an earlier, cut download). */
  received: number;
  /** Expected size. */
  total: number;
  /** Bytes received by this transfer (not counting resumed bytes). */
  transferred: number;
  /** Seconds since this transfer started. */
  elapsedS: number;
}

/** Options of {@linkcode downloadFile}. */
export interface DownloadOptions {
  /** The fetch to use (tests inject one). Default: global fetch. */
  fetch?: typeof fetch;
  /** Called as bytes arrive. */
  onProgress?: (p: FileProgress) => void;
  /** Extra attempts after a cut or a 5xx, each resuming where the last stopped. Default 3. */
  retries?: number;
  signal?: AbortSignal;
}

/** How a file was obtained. */
export type FetchOutcome = "downloaded" | "resumed";

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return null;
  }
}

/** Lower-case hex SHA-256 of a file, read in chunks. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(1 << 20);
  while (true) {
    const n = await file.read(buf);
    if (n === null) break;
    hash.update(buf.subarray(0, n));
  }
  return hash.digest("hex");
}

/** Why a file on disk does not match its manifest entry, or null when it does. */
export async function fileProblem(
  path: string,
  file: ModelFile,
  hash = true,
): Promise<string | null> {
  const size = await sizeOf(path);
  if (size === null) return "missing";
  if (size !== file.size) return `size ${size} bytes, expected ${file.size}`;
  if (!hash || file.sha256 === null) return null;
  const digest = await sha256File(path);
  return digest === file.sha256 ? null : `SHA-256 ${digest}, expected ${file.sha256}`;
}

async function parentDir(path: string) {
  const dir = path.slice(0, path.lastIndexOf("/"));
  if (dir) await Deno.mkdir(dir, { recursive: true });
}

/** Checks `part` against `file`, then renames it to `target`; deletes it when it is wrong. */
async function verifyAndPlace(part: string, target: string, file: ModelFile, source: string) {
  const problem = await fileProblem(part, file);
  if (problem) {
    await Deno.remove(part).catch(() => {});
    throw new ModelError(
      `checksum mismatch for ${file.path} from ${source}: ${problem}; the file was deleted` +
        " (a corrupt or different file; run the command again, or check the source)",
    );
  }
  await Deno.rename(part, target);
}

/**
 * Downloads `url` into `target` with resume: bytes go to `target.part`; an
 * existing `.part` is continued with a `Range` request; after the last byte
 * the file is checked against `file` and renamed into place.
 */
export async function downloadFile(
  url: string,
  target: string,
  file: ModelFile,
  options: DownloadOptions = {},
): Promise<FetchOutcome> {
  const doFetch = options.fetch ?? fetch;
  const part = `${target}.part`;
  await parentDir(target);
  const retries = options.retries ?? 3;
  let resumed = false;
  let lastError = "";
  for (let attempt = 0; attempt <= retries; attempt++) {
    let have = (await sizeOf(part)) ?? 0;
    if (have > file.size) {
      await Deno.remove(part);
      have = 0;
    }
    if (have === file.size) break;
    const headers: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
    let res: Response;
    try {
      res = await doFetch(url, { headers, signal: options.signal });
    } catch (e) {
      lastError = `cannot reach ${url}: ${(e as Error).message}`;
      if (options.signal?.aborted) break;
      continue;
    }
    if (res.status === 416) {
      await res.body?.cancel();
      await Deno.remove(part).catch(() => {});
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      lastError = `HTTP ${res.status} ${res.statusText} for ${url}`;
      if (res.status >= 500 || res.status === 429) continue;
      throw new ModelError(`download of ${file.path} failed: ${lastError}`);
    }
    const appending = have > 0 && res.status === 206;
    if (appending) resumed = true;
    else have = 0;
    const out = await Deno.open(part, {
      write: true,
      create: true,
      append: appending,
      truncate: !appending,
    });
    const started = performance.now();
    let transferred = 0;
    try {
      for await (const chunk of res.body ?? new ReadableStream<Uint8Array>()) {
        let written = 0;
        while (written < chunk.length) written += await out.write(chunk.subarray(written));
        transferred += chunk.length;
        options.onProgress?.({
          path: file.path,
          received: have + transferred,
          total: file.size,
          transferred,
          elapsedS: (performance.now() - started) / 1000,
        });
      }
      lastError = "";
    } catch (e) {
      lastError = `the download was cut at ${have + transferred} of ${file.size} bytes (${
        (e as Error).message
      })`;
    } finally {
      out.close();
    }
    if (options.signal?.aborted) break;
  }
  const have = (await sizeOf(part)) ?? 0;
  if (have !== file.size) {
    const why = lastError || `got ${have} of ${file.size} bytes`;
    throw new ModelError(
      `download of ${file.path} did not finish: ${why}; run the command again to resume`,
    );
  }
  await verifyAndPlace(part, target, file, url);
  return resumed ? "resumed" : "downloaded";
}

/** Copies `source` to `target` through a `.part` file, checking it against `file`. */
export async function copyFile(source: string, target: string, file: ModelFile): Promise<void> {
  const problem = await fileProblem(source, file, false);
  if (problem) {
    throw new ModelError(`${source} is not the expected ${file.path}: ${problem}`);
  }
  await parentDir(target);
  const part = `${target}.part`;
  await Deno.copyFile(source, part);
  await verifyAndPlace(part, target, file, source);
}
