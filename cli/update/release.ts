/**
 * Finding a release: the GitHub releases API (`/repos/OWNER/NAME/releases/latest`
 * or `/releases/tags/vX.Y.Z`), this platform's asset name, and the lines of
 * `SHA256SUMS`.
 *
 * @module
 */

import { REPOSITORY } from "../../src/version.ts";
import { UPDATE_API_ENV } from "../permissions.ts";
import { type GuardedFetch } from "./download.ts";

/** The file of checksums every release carries, and its minisign signature. */
export const SUMS_FILE = "SHA256SUMS";
/** The signature of {@link SUMS_FILE}. */
export const SUMS_SIGNATURE = "SHA256SUMS.minisig";

/** One downloadable file of a release. */
export interface ReleaseAsset {
  name: string;
  url: string;
  size?: number;
}

/** A release as the API describes it. */
export interface Release {
  tag: string;
  /** The tag without its leading `v`. */
  version: string;
  assets: ReleaseAsset[];
}

/**
 * The asset name for a platform, as `deno task compile` names its outputs;
 * null where no binary is built.
 *
 * @example
 * ```ts
 * assetName("linux", "x86_64"); // "isartor-linux-x64"
 * ```
 */
export function assetName(os: string = Deno.build.os, arch: string = Deno.build.arch) {
  const a = arch === "x86_64" ? "x64" : arch === "aarch64" ? "arm64" : null;
  if (!a) return null;
  if (os === "linux") return `isartor-linux-${a}`;
  if (os === "darwin") return `isartor-macos-${a}`;
  if (os === "windows" && a === "x64") return "isartor-windows-x64.exe";
  return null;
}

/** The API base: GitHub's, or the test server named by `ISARTOR_UPDATE_API_URL`. */
export function apiBase(env: Record<string, string | undefined>): string {
  return (env[UPDATE_API_ENV] || "https://api.github.com").replace(/\/+$/, "");
}

/** Looks up the latest release, or the one tagged `v<version>`. */
export async function findRelease(
  fetcher: GuardedFetch,
  env: Record<string, string | undefined>,
  version?: string,
): Promise<Release> {
  const path = version ? `releases/tags/v${version.replace(/^v/, "")}` : "releases/latest";
  const url = `${apiBase(env)}/repos/${REPOSITORY}/${path}`;
  const res = await fetcher(url, { headers: { accept: "application/vnd.github+json" } });
  if (res.status === 404) {
    await res.body?.cancel();
    throw new Error(
      version ? `no release v${version.replace(/^v/, "")}` : "no release published yet",
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`the release lookup answered HTTP ${res.status} (${url})`);
  }
  const body = await res.json().catch(() => null);
  if (typeof body?.tag_name !== "string" || !Array.isArray(body.assets)) {
    throw new Error(`the release lookup did not answer a release (${url})`);
  }
  return {
    tag: body.tag_name,
    version: body.tag_name.replace(/^v/, ""),
    assets: body.assets
      .filter((a: { name?: unknown; browser_download_url?: unknown }) =>
        typeof a?.name === "string" && typeof a.browser_download_url === "string"
      )
      .map((a: { name: string; browser_download_url: string; size?: number }) => ({
        name: a.name,
        url: a.browser_download_url,
        size: typeof a.size === "number" ? a.size : undefined,
      })),
  };
}

/** The expected SHA-256 (lower-case hex) of `file` in a `SHA256SUMS` text, or null. */
export function expectedSha256(sums: string, file: string): string | null {
  for (const line of sums.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{64})\s+\*?(\S+)$/.exec(line.trim());
    if (m && m[2] === file) return m[1].toLowerCase();
  }
  return null;
}

/** Compares dotted versions numerically: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
