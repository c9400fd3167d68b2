/**
 * Builds the embedder the configuration asks for: the one place where
 * `embedding_backend` chooses between in-process MiniLM, a remote embedding
 * server and the model-free fallback.
 *
 * @module
 */

import type { Config } from "../config/schema.ts";
import type { Embedder } from "./embedder.ts";
import { FallbackEmbedder } from "./fallback.ts";
import { defaultThreads, loadMiniLm, type MiniLmOptions } from "./minilm.ts";
import { MINILM_L6_V2, type ModelManifest } from "./model_files.ts";
import { ensureModel, type ModelEnv, type PullEvent } from "./models.ts";
import { connectRemoteEmbedder } from "./remote.ts";

/** The embedding backends, as `embedding_backend` and `--embedder` name them. */
export const EMBEDDING_BACKENDS = ["minilm", "remote", "none"] as const;

/** One embedding backend. */
export type EmbeddingBackend = typeof EMBEDDING_BACKENDS[number];

/** Whether a string names a backend. */
export function isEmbeddingBackend(v: unknown): v is EmbeddingBackend {
  return typeof v === "string" && (EMBEDDING_BACKENDS as readonly string[]).includes(v);
}

/** The backend the configuration asks for (`embedding_backend`). */
export function configuredBackend(config: Config): EmbeddingBackend {
  return config.embedding_backend;
}

let warnedUnwired = false;

/**
 * The embedder of a backend (by default the configured one). Its `name`,
 * `model` and `dims` are fixed once built: the semantic cache sizes its index
 * and partitions its entries by them, and `/health` reports them.
 *
 * @example
 * ```ts
 * const e = buildEmbedder(ConfigSchema.parse({}), "none");
 * e.name; // "none"
 * ```
 */
export function buildEmbedder(
  config: Config,
  backend: EmbeddingBackend = configuredBackend(config),
): Embedder {
  switch (backend) {
    // minilm and remote need I/O before they can embed (find or download a model,
    // probe a server): loadEmbedder() below builds them; callers that can await use it.
    case "minilm":
    case "remote":
      // A synchronous caller cannot load a model: the model-free fallback keeps L1b working.
      if (!warnedUnwired) {
        warnedUnwired = true;
        console.warn(
          `[isartor] warning: embedding backend "${backend}" was not loaded (it needs loadEmbedder, as isartor up does); the semantic cache uses the model-free fallback ("none")`,
        );
      }
      return new FallbackEmbedder();
    case "none":
      return new FallbackEmbedder();
  }
}

/** Options of {@linkcode loadEmbedder}. */
export interface LoadEmbedderOptions {
  /** Default: the configured backend. */
  backend?: EmbeddingBackend;
  /** HF_HOME, HF_ENDPOINT and HOME, for finding and downloading models. */
  env?: ModelEnv;
  /** Progress of a first-time model download. */
  onEvent?: (e: PullEvent) => void;
  /**
   * May a missing model be downloaded? Default: unless `offline_mode`. The
   * gateway process passes false: `isartor up` downloads before starting it,
   * so the gateway never needs the hub's hosts.
   */
  download?: boolean;
  /** The fetch for model downloads and the embedding server (tests inject one). */
  fetch?: typeof fetch;
  /** Extra MiniLM options (tests and the benchmark). */
  minilm?: MiniLmOptions;
  /** The model to find or download. Default: the pinned all-MiniLM-L6-v2 (tests pin a tiny one). */
  manifest?: ModelManifest;
}

/** A built embedder, and the one-line reason when it is not the backend asked for. */
export interface LoadedEmbedder {
  embedder: Embedder;
  /** The backend the configuration asked for. */
  requested: EmbeddingBackend;
  /** Set when the requested backend could not start and the model-free one runs instead. */
  notice: string | null;
}

/**
 * Builds the configured embedder with the I/O it needs (the async
 * counterpart of {@linkcode buildEmbedder}): for "minilm", finds (or, unless
 * `offline_mode`, downloads) the pinned model and loads it in a worker; for
 * "remote", connects to `embedding_sidecar.sidecar_url` and learns its vector
 * length. When that fails, the model-free embedder runs instead and `notice`
 * says why, in one line. Never throws.
 *
 * @example
 * ```ts ignore
 * const { embedder, notice } = await loadEmbedder(config, { env: { HF_HOME: Deno.env.get("HF_HOME") } });
 * if (notice) console.warn(`[isartor] warning: ${notice}`);
 * const gateway = createGateway(config, { embedder });
 * ```
 */
export async function loadEmbedder(
  config: Config,
  options: LoadEmbedderOptions = {},
): Promise<LoadedEmbedder> {
  const requested = options.backend ?? configuredBackend(config);
  const fallback = (why: string): LoadedEmbedder => ({
    embedder: new FallbackEmbedder(),
    requested,
    notice: `${why}; the semantic cache uses the model-free embedder ("none") instead`,
  });
  if (requested === "none") return { embedder: new FallbackEmbedder(), requested, notice: null };
  if (requested === "remote") {
    const s = config.embedding_sidecar;
    if (!s.sidecar_url) {
      return fallback('embedding_backend is "remote" but embedding_sidecar.sidecar_url is empty');
    }
    try {
      const embedder = await connectRemoteEmbedder({
        url: s.sidecar_url,
        model: s.model_name || undefined,
        timeoutMs: s.timeout_seconds * 1000,
        fetch: options.fetch,
      });
      return { embedder, requested, notice: null };
    } catch (e) {
      return fallback((e as Error).message);
    }
  }
  const manifest = options.manifest ?? MINILM_L6_V2;
  const found = await ensureModel(config, {
    env: options.env,
    download: options.download ?? !config.offline_mode,
    onEvent: options.onEvent,
    fetch: options.fetch,
    manifest,
  });
  if (!found.ok) return fallback(found.error);
  try {
    const embedder = await loadMiniLm(found.folder, {
      model: manifest.model,
      threads: config.embedding_threads || defaultThreads(),
      ...options.minilm,
    });
    return { embedder, requested, notice: null };
  } catch (e) {
    return fallback((e as Error).message);
  }
}
