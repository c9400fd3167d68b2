/**
 * The MiniLM inference worker: a dedicated module Worker that owns
 * transformers.js and onnxruntime-web (WASM), so the gateway's event loop
 * never waits on a forward pass. Spoken to only by {@linkcode ./minilm.ts},
 * through {@linkcode WorkerRequest} and {@linkcode WorkerReply} messages.
 *
 * Set-up, after docs/NOTES-runtime's recipe for transformers.js under Deno:
 * - the web build, imported by path (the package's default under Deno is the
 *   Node build, with native onnxruntime-node and sharp);
 * - onnxruntime-web at the exact version transformers.js wants (deno.json
 *   imports), its WASM-only build handed over through
 *   `globalThis[Symbol.for("onnxruntime")]`;
 * - remote models off, the model folder as a `file:` model path, no browser
 *   cache; model files and the `.wasm` are served from disk by a custom cache
 *   (never fetched), the `.mjs` is imported by `file:` URL (Deno refuses
 *   `blob:` modules);
 * - worker-only: `location` is hidden (a worker's `location.origin` is
 *   `"null"` for `file:` scripts, which the ORT bundle fails on as a URL base);
 * - more than one thread: ORT's thread workers are started from the `.mjs`
 *   file itself instead of a `blob:` copy ({@linkcode allowFileThreadWorkers}).
 *
 * @module
 */

/** Messages to the worker. */
export type WorkerRequest =
  | {
    kind: "load";
    /** The model folder (absolute path), Hugging Face layout. */
    folder: string;
    /** `fp32` reads onnx/model.onnx, `q8` onnx/model_quantized.onnx. */
    dtype: "fp32" | "q8";
    /** `file:` URL of onnxruntime-web's dist folder (ends with `/`). */
    ortDistUrl: string;
    /** Longest input in tokens (special tokens included); longer texts are truncated. */
    maxTokens: number;
    /** WASM threads of onnxruntime. */
    threads: number;
    /** Forward passes run after loading, so V8 has optimized the WASM code before the first request. */
    warmupRuns: number;
    /** Let idle threads spin for work (lower latency, more CPU). */
    spin: boolean;
  }
  | { kind: "embed"; id: number; texts: string[] };

/** Messages from the worker. */
export type WorkerReply =
  | { kind: "ready"; dims: number }
  | { kind: "vectors"; id: number; dims: number; data: Float32Array }
  | { kind: "error"; id: number | null; message: string };

/** The part of a transformers.js tensor used here. */
interface TensorLike {
  dims: number[];
  data: Float32Array | BigInt64Array;
}

/** The part of transformers.js used here (its web build ships no Deno types). */
interface TransformersApi {
  env: {
    allowRemoteModels: boolean;
    allowLocalModels: boolean;
    localModelPath: string;
    useBrowserCache: boolean;
    useWasmCache: boolean;
    useCustomCache: boolean;
    customCache: LocalFiles | null;
    logLevel: number;
    fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
    backends: {
      onnx: { wasm: { wasmPaths: { mjs: string; wasm: string }; numThreads: number } };
    };
  };
  LogLevel: { ERROR: number };
  pipeline(
    task: "feature-extraction",
    model: string,
    options: { dtype: string; device: string; session_options: Record<string, unknown> },
  ): Promise<Extractor>;
}

interface Extractor {
  tokenizer(
    texts: string[],
    options: { padding: boolean; truncation: boolean; max_length: number },
  ): { attention_mask: TensorLike } & Record<string, unknown>;
  model: {
    (inputs: Record<string, unknown>): Promise<Record<string, TensorLike | undefined>>;
    config?: { max_position_embeddings?: unknown };
  };
  dispose(): Promise<void>;
}

/**
 * Imports onnxruntime-web's WASM-only build, hands it to transformers.js
 * (which uses `globalThis[Symbol.for("onnxruntime")]` when set, instead of
 * the WebGPU build it imports: half the WASM to compile, less memory), then
 * transformers.js itself.
 */
async function importRuntime(): Promise<TransformersApi> {
  Object.defineProperty(globalThis, "location", { value: undefined, configurable: true });
  const ort = await import("onnxruntime-web/wasm");
  (globalThis as Record<symbol, unknown>)[Symbol.for("onnxruntime")] = ort;
  return await import(
    "../../node_modules/@huggingface/transformers/dist/transformers.web.js"
  ) as unknown as TransformersApi;
}

/**
 * Lets onnxruntime-web start its thread workers from the `.mjs` file itself:
 * it would fetch the file and start them from a `blob:` URL (it sees a
 * `file:` URL as cross-origin), which Deno refuses.
 */
function allowFileThreadWorkers(ortDistUrl: string) {
  let lastModule: string | null = null;
  const realFetch = globalThis.fetch;
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (url.startsWith(ortDistUrl) && url.endsWith(".mjs")) {
      lastModule = url;
      return Promise.resolve(new Response(""));
    }
    return realFetch(input, init);
  }) as typeof fetch;
  const realCreate = URL.createObjectURL;
  URL.createObjectURL = (obj: Blob) => {
    const url = lastModule;
    lastModule = null;
    return url ?? realCreate(obj);
  };
}

/** The Web Cache API subset transformers.js asks of a custom cache. */
interface LocalFiles {
  match(key: string | URL | Request): Promise<Response | undefined>;
  put(key: string, response: Response): Promise<void>;
}

/**
 * Serves `file:` URLs (model files, the ORT `.wasm`) from disk as cache hits,
 * so transformers.js never fetches them (its fetch path reads environment
 * variables, which the gateway may not). A missing file, any other URL and the
 * ORT `.mjs` (imported by URL instead) are misses.
 */
const localFiles: LocalFiles = {
  async match(key) {
    const url = typeof key === "string" ? key : key instanceof URL ? key.href : key.url;
    if (!url.startsWith("file:") || url.endsWith(".mjs")) return undefined;
    try {
      return new Response(await Deno.readFile(new URL(url)));
    } catch (e) {
      // A missing file is a miss; anything else (permissions) is reported as is.
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
  },
  put: () => Promise.resolve(),
};

/** Whatever the cache misses: a 404, never the network. */
function noFetch(): Promise<Response> {
  return Promise.resolve(new Response("not found", { status: 404, statusText: "Not Found" }));
}

let tf: TransformersApi | null = null;
let extractor: Extractor | null = null;
let maxTokens = 256;

async function load(req: Extract<WorkerRequest, { kind: "load" }>): Promise<number> {
  const folder = req.folder.replace(/\/+$/, "");
  const slash = folder.lastIndexOf("/");
  const parent = folder.slice(0, slash + 1) || "/";
  const name = folder.slice(slash + 1);
  if (req.threads > 1) allowFileThreadWorkers(req.ortDistUrl);
  tf = await importRuntime();
  const { env } = tf;
  env.logLevel = tf.LogLevel.ERROR;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = new URL(parent, "file:///").href;
  env.useBrowserCache = false;
  env.useWasmCache = true;
  env.useCustomCache = true;
  env.customCache = localFiles;
  env.fetch = noFetch;
  env.backends.onnx.wasm.wasmPaths = {
    mjs: new URL("ort-wasm-simd-threaded.mjs", req.ortDistUrl).href,
    wasm: new URL("ort-wasm-simd-threaded.wasm", req.ortDistUrl).href,
  };
  env.backends.onnx.wasm.numThreads = req.threads;
  maxTokens = req.maxTokens;
  // "auto": with an injected runtime, transformers.js lists no devices of its
  // own; the execution provider is named in the session options instead.
  extractor = await tf.pipeline("feature-extraction", name, {
    dtype: req.dtype,
    device: "auto",
    session_options: {
      executionProviders: ["wasm"],
      extra: { session: { intra_op: { allow_spinning: req.spin ? "1" : "0" } } },
    },
  });
  // Never more tokens than the model has positions for.
  const positions = extractor.model.config?.max_position_embeddings;
  if (typeof positions === "number" && positions > 0) maxTokens = Math.min(maxTokens, positions);
  const probe = await embed(["a"]);
  const warm = "a short question about the weather, asked again and again to warm the model up";
  for (let i = 0; i < req.warmupRuns; i++) await embed([warm]);
  return probe.width;
}

/**
 * Mean pooling over the attention mask, then L2 normalization (what transformers.js'
 * `{pooling: "mean", normalize: true}` computes), in one pass over the hidden states
 * without its intermediate tensors: a tenth of the time.
 */
function meanPoolNormalize(
  hidden: Float32Array,
  mask: ArrayLike<number | bigint>,
  dims: readonly number[],
): Float32Array<ArrayBuffer> {
  const [batch, tokens, width] = dims;
  const out = new Float32Array(batch * width);
  for (let b = 0; b < batch; b++) {
    const row = out.subarray(b * width, (b + 1) * width);
    let count = 0;
    for (let t = 0; t < tokens; t++) {
      if (!Number(mask[b * tokens + t])) continue;
      count++;
      const at = (b * tokens + t) * width;
      for (let i = 0; i < width; i++) row[i] += hidden[at + i];
    }
    let norm = 0;
    for (let i = 0; i < width; i++) {
      row[i] /= count || 1;
      norm += row[i] * row[i];
    }
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < width; i++) row[i] /= norm;
  }
  return out;
}

/** The embeddings of `texts`: `[texts.length × width]` values, and the width. */
async function embed(texts: string[]): Promise<{ data: Float32Array<ArrayBuffer>; width: number }> {
  if (!tf || !extractor) throw new Error("the model is not loaded");
  const inputs = extractor.tokenizer(texts, {
    padding: true,
    truncation: true,
    max_length: maxTokens,
  });
  const out = await extractor.model(inputs);
  const hidden = out.last_hidden_state ?? out.logits ?? out.token_embeddings;
  if (!hidden) throw new Error("the model has no last_hidden_state output");
  const data = meanPoolNormalize(
    hidden.data as Float32Array,
    inputs.attention_mask.data as ArrayLike<bigint>,
    hidden.dims,
  );
  return { data, width: hidden.dims[2] };
}

function reply(message: WorkerReply, transfer: Transferable[] = []) {
  (self as unknown as Worker).postMessage(message, transfer);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
};

scope.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const req = event.data;
  if (req.kind === "load") {
    try {
      reply({ kind: "ready", dims: await load(req) });
    } catch (e) {
      reply({ kind: "error", id: null, message: errorText(e) });
    }
    return;
  }
  try {
    const { data, width } = await embed(req.texts);
    reply({ kind: "vectors", id: req.id, dims: width, data }, [data.buffer]);
  } catch (e) {
    reply({ kind: "error", id: req.id, message: errorText(e) });
  }
};
