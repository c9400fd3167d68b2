/**
 * Local embedding models: where they live, whether they are whole, and how
 * they get there.
 *
 * A model is looked for, in order, in `<models_dir>/<org>/<name>` (by default
 * `models_dir` is `<data_dir>/models`), in `models_dir` itself when it holds
 * the files directly (an air-gapped install pointing at a folder), and in the
 * Hugging Face cache when `HF_HOME` is set
 * (`$HF_HOME/hub/models--<org>--<name>/snapshots/<revision>/`). Every file is
 * checked against the pinned manifest ({@linkcode ./model_files.ts}).
 * {@linkcode pullModel} fills the first of those folders from the hub (or a
 * local folder); {@linkcode ensureModel} is what the gateway calls at start.
 *
 * @module
 */

import type { Config } from "../config/schema.ts";
import {
  copyFile,
  downloadFile,
  type FetchOutcome,
  fileProblem,
  type FileProgress,
  ModelError,
} from "./model_download.ts";
import {
  DEFAULT_VARIANT,
  filesFor,
  MINILM_L6_V2,
  type ModelFile,
  type ModelManifest,
  type ModelVariant,
  variantsOf,
} from "./model_files.ts";

export { type FileProgress, ModelError } from "./model_download.ts";

/** The environment variables the model code reads, passed in by the caller. */
export interface ModelEnv {
  /** Hugging Face home; its `hub/` cache is searched and reused. */
  HF_HOME?: string;
  /** Hub address; default https://huggingface.co. */
  HF_ENDPOINT?: string;
  /** For a leading `~` in paths. */
  HOME?: string;
}

/** Where models are kept and looked for. */
export interface ModelPaths {
  /** Downloads go here: `models_dir`, else `<data_dir>/models`. */
  modelsDir: string;
  /** `$HF_HOME/hub`, or null when HF_HOME is not set. */
  hfHubDir: string | null;
  /** The hub to download from, without a trailing slash. */
  endpoint: string;
}

/** The default hub. */
export const DEFAULT_HF_ENDPOINT = "https://huggingface.co";

function expand(path: string, home: string | undefined): string {
  const full = home && (path === "~" || path.startsWith("~/")) ? `${home}${path.slice(1)}` : path;
  return full.replace(/\/+$/, "") || "/";
}

/**
 * The model paths of a configuration and environment.
 *
 * @example
 * ```ts
 * import { ConfigSchema } from "../config/schema.ts";
 * const p = modelPaths(ConfigSchema.parse({ data_dir: "/srv/isartor" }), {});
 * p.modelsDir; // "/srv/isartor/models"
 * ```
 */
export function modelPaths(config: Config, env: ModelEnv = {}): ModelPaths {
  const modelsDir = config.models_dir
    ? expand(config.models_dir, env.HOME)
    : `${expand(config.data_dir, env.HOME)}/models`;
  return {
    modelsDir,
    hfHubDir: env.HF_HOME ? `${expand(env.HF_HOME, env.HOME)}/hub` : null,
    endpoint: (env.HF_ENDPOINT || DEFAULT_HF_ENDPOINT).replace(/\/+$/, ""),
  };
}

/** The folder a model is downloaded to. */
export function modelFolder(modelsDir: string, manifest: ModelManifest): string {
  return `${modelsDir}/${manifest.repo}`;
}

/** The model's snapshot folder in a Hugging Face hub cache. */
export function hfSnapshotFolder(hubDir: string, manifest: ModelManifest): string {
  return `${hubDir}/models--${manifest.repo.replace("/", "--")}/snapshots/${manifest.revision}`;
}

/** The download URL of one file. */
export function fileUrl(endpoint: string, manifest: ModelManifest, path: string): string {
  return `${endpoint}/${manifest.repo}/resolve/${manifest.revision}/${path}`;
}

/** The state of one file in a folder. */
export interface FileCheck {
  path: string;
  variant?: ModelVariant;
  /** Null when the file is present and matches; else what is wrong ("missing", a size or hash mismatch). */
  problem: string | null;
}

/** What a folder holds of a model. */
export interface FolderCheck {
  folder: string;
  /** Where this folder comes from. */
  source: "models_dir" | "folder" | "hf_cache";
  /** Usable: every shared file and at least one variant match the manifest. */
  ok: boolean;
  /** The variants whose ONNX file matches. */
  variants: ModelVariant[];
  files: FileCheck[];
}

/** Checks every file of `manifest` in `folder` (sizes; SHA-256 too when `hash`). */
export async function checkFolder(
  folder: string,
  manifest: ModelManifest,
  source: FolderCheck["source"],
  hash = true,
): Promise<FolderCheck> {
  const files: FileCheck[] = [];
  for (const f of manifest.files) {
    files.push({
      path: f.path,
      variant: f.variant,
      problem: await fileProblem(`${folder}/${f.path}`, f, hash),
    });
  }
  const shared = files.filter((f) => !f.variant).every((f) => f.problem === null);
  const variants = files.flatMap((f) => f.variant && f.problem === null ? [f.variant] : []);
  return { folder, source, ok: shared && variants.length > 0, variants, files };
}

async function hasFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** The folders where a model may be, in search order (only those that exist). */
export async function candidateFolders(
  manifest: ModelManifest,
  paths: ModelPaths,
): Promise<{ folder: string; source: FolderCheck["source"] }[]> {
  const out: { folder: string; source: FolderCheck["source"] }[] = [
    { folder: modelFolder(paths.modelsDir, manifest), source: "models_dir" },
  ];
  if (await hasFile(`${paths.modelsDir}/config.json`)) {
    out.push({ folder: paths.modelsDir, source: "folder" });
  }
  if (paths.hfHubDir) {
    out.push({ folder: hfSnapshotFolder(paths.hfHubDir, manifest), source: "hf_cache" });
  }
  return out;
}

/** Every candidate folder of a model, checked; `found` is the first usable one. */
export async function locateModel(
  manifest: ModelManifest,
  paths: ModelPaths,
  hash = true,
): Promise<{ found: FolderCheck | null; checked: FolderCheck[] }> {
  const checked: FolderCheck[] = [];
  for (const c of await candidateFolders(manifest, paths)) {
    const check = await checkFolder(c.folder, manifest, c.source, hash);
    checked.push(check);
    if (check.ok) return { found: check, checked };
  }
  return { found: null, checked };
}

/** Progress of a pull: one file's bytes, or a file done. */
export type PullEvent =
  | ({ kind: "progress" } & FileProgress)
  | { kind: "file"; path: string; action: PullAction; bytes: number };

/** What happened to one file. */
export type PullAction = "present" | FetchOutcome | "copied" | "copied_from_hf_cache";

/** Options of {@linkcode pullModel}. */
export interface PullOptions {
  paths: ModelPaths;
  /** Variants to fetch. Default `["q8"]`. */
  variants?: ModelVariant[];
  /** Copy from this folder (Hugging Face layout) instead of downloading. */
  from?: string;
  fetch?: typeof fetch;
  onEvent?: (e: PullEvent) => void;
  /** Extra download attempts per file after a cut. Default 3. */
  retries?: number;
  signal?: AbortSignal;
}

/** The result of a pull. */
export interface PullResult {
  folder: string;
  files: { path: string; action: PullAction; bytes: number }[];
}

/**
 * Brings the files of `manifest` into `<modelsDir>/<org>/<name>`: files that
 * are already there and match are kept; others are copied from `from` or
 * from the Hugging Face cache when it has them, else downloaded (resumable).
 * Throws a {@linkcode ModelError} with one clear message.
 */
export async function pullModel(
  manifest: ModelManifest,
  options: PullOptions,
): Promise<PullResult> {
  const folder = modelFolder(options.paths.modelsDir, manifest);
  const variants = options.variants ?? [DEFAULT_VARIANT];
  const unknown = variants.filter((v) => !variantsOf(manifest).includes(v));
  if (unknown.length > 0) {
    throw new ModelError(`${manifest.name} has no variant ${unknown.join(", ")}`);
  }
  const hfFolder = options.paths.hfHubDir
    ? hfSnapshotFolder(options.paths.hfHubDir, manifest)
    : null;
  const files: PullResult["files"] = [];
  for (const f of filesFor(manifest, variants)) {
    const action = await pullFile(manifest, f, folder, hfFolder, options);
    files.push({ path: f.path, action, bytes: f.size });
    options.onEvent?.({ kind: "file", path: f.path, action, bytes: f.size });
  }
  return { folder, files };
}

async function pullFile(
  manifest: ModelManifest,
  f: ModelFile,
  folder: string,
  hfFolder: string | null,
  options: PullOptions,
): Promise<PullAction> {
  const target = `${folder}/${f.path}`;
  if (await fileProblem(target, f) === null) return "present";
  if (options.from) {
    await copyFile(`${options.from.replace(/\/+$/, "")}/${f.path}`, target, f);
    return "copied";
  }
  if (hfFolder && await fileProblem(`${hfFolder}/${f.path}`, f) === null) {
    await copyFile(`${hfFolder}/${f.path}`, target, f);
    return "copied_from_hf_cache";
  }
  return await downloadFile(fileUrl(options.paths.endpoint, manifest, f.path), target, f, {
    fetch: options.fetch,
    retries: options.retries,
    signal: options.signal,
    onProgress: (p) => options.onEvent?.({ kind: "progress", ...p }),
  });
}

/** Options of {@linkcode ensureModel}. */
export interface EnsureOptions {
  env?: ModelEnv;
  /** Download when the model is not found (`!offline_mode`). Default false. */
  download?: boolean;
  onEvent?: (e: PullEvent) => void;
  fetch?: typeof fetch;
  /** Default {@linkcode MINILM_L6_V2}. */
  manifest?: ModelManifest;
}

/** A usable model folder, or one clear message saying why there is none. */
export type EnsureResult =
  | { ok: true; folder: string; source: FolderCheck["source"]; downloaded: boolean }
  | { ok: false; error: string };

function describeProblems(checked: FolderCheck[]): string {
  const broken = checked.filter((c) =>
    c.files.some((f) => f.problem !== null && f.problem !== "missing")
  );
  if (broken.length === 0) {
    return `not found (looked in ${checked.map((c) => c.folder).join(", ")})`;
  }
  return broken.map((c) => {
    const bad = c.files.filter((f) => f.problem !== null && f.problem !== "missing");
    return `corrupt in ${c.folder}: ${bad.map((f) => `${f.path} (${f.problem})`).join(", ")}`;
  }).join("; ");
}

/**
 * A verified folder of the embedding model, downloading it first when it is
 * missing and `download` is set. Never throws: a failure is one clear message.
 *
 * @example
 * ```ts ignore
 * const r = await ensureModel(config, { env: { HF_HOME: Deno.env.get("HF_HOME") }, download: !config.offline_mode });
 * if (r.ok) await loadMiniLm(r.folder);
 * else console.warn(r.error);
 * ```
 */
export async function ensureModel(
  config: Config,
  options: EnsureOptions = {},
): Promise<EnsureResult> {
  const manifest = options.manifest ?? MINILM_L6_V2;
  const paths = modelPaths(config, options.env);
  try {
    const { found, checked } = await locateModel(manifest, paths);
    if (found) return { ok: true, folder: found.folder, source: found.source, downloaded: false };
    const problems = describeProblems(checked);
    if (!options.download) {
      return {
        ok: false,
        error: `embedding model ${manifest.name} is ${problems}; not downloading it here` +
          " (offline_mode, or the gateway process, which leaves downloads to `isartor up`);" +
          " fix: run `isartor models pull` on a connected machine, or" +
          " `isartor models pull --from DIR` with a folder of the model files",
      };
    }
    const pulled = await pullModel(manifest, {
      paths,
      fetch: options.fetch,
      onEvent: options.onEvent,
    });
    return { ok: true, folder: pulled.folder, source: "models_dir", downloaded: true };
  } catch (e) {
    const why = e instanceof ModelError ? e.message : `${(e as Error).message}`;
    return {
      ok: false,
      error: `embedding model ${manifest.name} is not available: ${why};` +
        " fix: run `isartor models pull` (or `--from DIR` offline)",
    };
  }
}
