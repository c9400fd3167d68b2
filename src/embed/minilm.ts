/**
 * The in-process MiniLM embedder (backend `"minilm"`): a BERT sentence encoder
 * (by default sentence-transformers/all-MiniLM-L6-v2: 384 dimensions, mean
 * pooling, L2-normalized) run by transformers.js on onnxruntime-web's WASM
 * backend inside a dedicated Worker ({@linkcode ./minilm_worker.ts}), so the
 * gateway's event loop is never blocked by a forward pass.
 *
 * Concurrent calls are batched: while the worker computes one batch, new
 * texts queue, and the next batch takes all of them (up to `maxBatch`).
 *
 * @module
 */

import type { Embedder } from "./embedder.ts";
import type { WorkerReply, WorkerRequest } from "./minilm_worker.ts";

/** Which ONNX file to run: `fp32` (onnx/model.onnx), `q8` (onnx/model_quantized.onnx), or `auto`. */
export type MiniLmDtype = "auto" | "fp32" | "q8";

/** Options of {@linkcode loadMiniLm}. */
export interface MiniLmOptions {
  /**
   * `auto` (default) prefers the int8-quantized file when present: on WASM it
   * is 1.7-3x faster than fp32, and a quarter of the download (see
   * bench/scenarios/embedding.ts).
   */
  dtype?: MiniLmDtype;
  /** Model name reported by the embedder. Default: the folder's name. */
  model?: string;
  /** Longest input in tokens; longer texts are truncated. Default 256 (MiniLM's training length). */
  maxTokens?: number;
  /** Most texts per forward pass. Default 16. */
  maxBatch?: number;
  /** `file:` URL of onnxruntime-web's `dist/` folder. Default: the one in node_modules. */
  ortDistUrl?: string;
  /** WASM threads. Default {@linkcode defaultThreads}. */
  threads?: number;
  /** Forward passes after loading, before the embedder is handed out. Default 4. */
  warmupRuns?: number;
  /** Let idle WASM threads spin for work (CPU burnt while idle; no gain measured here). Default false. */
  spin?: boolean;
  /** Longest wait for the model to load, ms. Default 120000. */
  loadTimeoutMs?: number;
}

/** The model files a folder must hold, besides one of the ONNX files. */
export const MINILM_REQUIRED_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json"];

/** Characters kept of a text before tokenizing (far more than `maxTokens` tokens ever need). */
const MAX_CHARS = 32_768;

const DEFAULT_ORT_DIST = new URL("../../node_modules/onnxruntime-web/dist/", import.meta.url).href;

/**
 * WASM threads when none are configured: one per core, at most 4.
 *
 * @example
 * ```ts
 * defaultThreads() >= 1; // true
 * ```
 */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
}

/**
 * The files and folders the in-process embedder reads besides the model
 * folder: its worker module and onnxruntime-web's WASM files. A gateway run
 * with `--allow-read=<list>` needs these plus the model folder.
 */
export function runtimeReadPaths(ortDistUrl: string = DEFAULT_ORT_DIST): string[] {
  const path = (u: string) => decodeURIComponent(new URL(u).pathname).replace(/\/$/, "");
  return [path(new URL("./minilm_worker.ts", import.meta.url).href), path(ortDistUrl)];
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * The dtype to load from `folder`: the asked one if its file exists, else for
 * `auto` the quantized file, else fp32; or an error naming what is missing.
 */
export async function pickDtype(
  folder: string,
  dtype: MiniLmDtype = "auto",
): Promise<"fp32" | "q8"> {
  for (const f of MINILM_REQUIRED_FILES) {
    if (!await exists(`${folder}/${f}`)) {
      throw new Error(`model folder ${folder} has no ${f}`);
    }
  }
  const q8 = await exists(`${folder}/onnx/model_quantized.onnx`);
  const fp32 = await exists(`${folder}/onnx/model.onnx`);
  if (dtype === "q8" && q8 || dtype === "auto" && q8) return "q8";
  if (dtype !== "q8" && fp32) return "fp32";
  const want = dtype === "q8" ? "onnx/model_quantized.onnx" : "onnx/model.onnx";
  throw new Error(
    `model folder ${folder} has no ${
      dtype === "auto" ? `${want} or onnx/model_quantized.onnx` : want
    }`,
  );
}

interface Pending {
  texts: string[];
  resolve(vectors: Float32Array[]): void;
  reject(error: Error): void;
}

/** The MiniLM embedder; build it with {@linkcode loadMiniLm}. */
export class MiniLmEmbedder implements Embedder {
  readonly name = "minilm";
  readonly model: string;
  readonly dims: number;
  /** The ONNX variant in use. */
  readonly dtype: "fp32" | "q8";
  #worker: Worker;
  #queue: Pending[] = [];
  #inflight: { id: number; batch: Pending[] } | null = null;
  #nextId = 1;
  #maxBatch: number;
  #broken: Error | null = null;

  /** Use {@linkcode loadMiniLm}; this takes a worker that has answered `ready`. */
  constructor(
    worker: Worker,
    info: { model: string; dims: number; dtype: "fp32" | "q8" },
    maxBatch: number,
  ) {
    this.#worker = worker;
    this.model = info.model;
    this.dims = info.dims;
    this.dtype = info.dtype;
    this.#maxBatch = maxBatch;
    worker.onmessage = (e: MessageEvent<WorkerReply>) => this.#onReply(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#fail(new Error(`embedding worker failed: ${e.message}`));
    };
  }

  embed(texts: string[]): Promise<Float32Array[]> {
    if (this.#broken) return Promise.reject(this.#broken);
    if (texts.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#queue.push({ texts: texts.map((t) => t.slice(0, MAX_CHARS)), resolve, reject });
      if (!this.#inflight) this.#flush();
    });
  }

  close(): Promise<void> {
    this.#fail(new Error("the embedder is closed"));
    return Promise.resolve();
  }

  #flush() {
    if (this.#queue.length === 0 || this.#broken) return;
    const batch: Pending[] = [];
    let count = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0];
      if (batch.length > 0 && count + next.texts.length > this.#maxBatch) break;
      batch.push(this.#queue.shift()!);
      count += next.texts.length;
    }
    const id = this.#nextId++;
    this.#inflight = { id, batch };
    const msg: WorkerRequest = { kind: "embed", id, texts: batch.flatMap((p) => p.texts) };
    this.#worker.postMessage(msg);
  }

  #onReply(reply: WorkerReply) {
    const inflight = this.#inflight;
    if (!inflight || reply.kind === "ready" || reply.id !== inflight.id) return;
    this.#inflight = null;
    if (reply.kind === "error") {
      const err = new Error(`embedding failed: ${reply.message}`);
      for (const p of inflight.batch) p.reject(err);
    } else {
      let row = 0;
      for (const p of inflight.batch) {
        p.resolve(p.texts.map(() => {
          const v = reply.data.slice(row * reply.dims, (row + 1) * reply.dims);
          row++;
          return v;
        }));
      }
    }
    this.#flush();
  }

  #fail(err: Error) {
    if (this.#broken) return;
    this.#broken = err;
    this.#worker.terminate();
    const pending = [...(this.#inflight?.batch ?? []), ...this.#queue];
    this.#inflight = null;
    this.#queue = [];
    for (const p of pending) p.reject(err);
  }
}

/**
 * Loads a BERT sentence encoder from a folder in Hugging Face layout
 * (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx and/or
 * onnx/model_quantized.onnx) into a new worker. Rejects with one clear message
 * when files are missing or the model does not load.
 *
 * @example
 * ```ts ignore
 * const embedder = await loadMiniLm(`${dataDir}/models/Xenova/all-MiniLM-L6-v2`);
 * const [v] = await embedder.embed(["What is the capital of France?"]);
 * v.length; // 384
 * await embedder.close();
 * ```
 */
export async function loadMiniLm(
  folder: string,
  options: MiniLmOptions = {},
): Promise<MiniLmEmbedder> {
  const dir = folder.replace(/\/+$/, "");
  const dtype = await pickDtype(dir, options.dtype);
  const threads = options.threads ?? defaultThreads();
  let started: { worker: Worker; dims: number };
  try {
    started = await startWorker(dir, dtype, threads, options);
  } catch (e) {
    // Thread workers are the least portable part: one thread still works.
    if (threads <= 1) throw e;
    started = await startWorker(dir, dtype, 1, options);
  }
  const model = options.model ?? dir.slice(dir.lastIndexOf("/") + 1);
  return new MiniLmEmbedder(
    started.worker,
    { model, dims: started.dims, dtype },
    options.maxBatch ?? 16,
  );
}

async function startWorker(
  dir: string,
  dtype: "fp32" | "q8",
  threads: number,
  options: MiniLmOptions,
): Promise<{ worker: Worker; dims: number }> {
  const worker = new Worker(new URL("./minilm_worker.ts", import.meta.url), { type: "module" });
  const request: WorkerRequest = {
    kind: "load",
    folder: dir,
    dtype,
    ortDistUrl: options.ortDistUrl ?? DEFAULT_ORT_DIST,
    maxTokens: options.maxTokens ?? 256,
    threads,
    warmupRuns: options.warmupRuns ?? 4,
    spin: options.spin ?? false,
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const dims = await new Promise<number>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error("timed out")), options.loadTimeoutMs ?? 120_000);
      worker.onmessage = (e: MessageEvent<WorkerReply>) => {
        if (e.data.kind === "ready") resolve(e.data.dims);
        else if (e.data.kind === "error") reject(new Error(e.data.message));
      };
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        reject(new Error(e.message));
      };
      worker.postMessage(request);
    });
    return { worker, dims };
  } catch (e) {
    worker.terminate();
    throw new Error(
      `cannot load the embedding model from ${dir} (${dtype}): ${(e as Error).message}`,
    );
  } finally {
    clearTimeout(timer);
  }
}
