/**
 * The in-process small model: a GGUF file run by llama.cpp compiled to WASM
 * (@wllama/wllama), single-threaded, CPU only.
 *
 * Deno needs four adjustments (measured; ../../docs/architecture.md, "L2"):
 * - a storage backend for wllama's cache manager, which finds none in Deno;
 *   ours refuses every write, so wllama can never download anything;
 * - the WASM handed over as a `blob:` URL made from the file's bytes
 *   (Emscripten would use XMLHttpRequest for a `file:` URL);
 * - `globalThis.process` removed inside wllama's worker (else Emscripten
 *   takes its Node path and calls `require`): the worker's code is a
 *   JavaScript Blob built while the model loads, so Blob is wrapped for
 *   exactly that moment;
 * - a `location` when the process has none (wllama resolves URLs against it).
 *
 * @module
 */

import { CacheManager, Wllama } from "@wllama/wllama/esm/index.js";
import { type SlmBackend, type SlmChunk, SlmError, type SlmRequest } from "./backend.ts";
import { topOf } from "./remote.ts";

/** Options of {@linkcode loadEmbeddedSlm}. */
export interface EmbeddedSlmOptions {
  /** Path of the GGUF file. */
  modelPath: string;
  /** The name answers carry (default: the file's name without `.gguf`). */
  model?: string;
  /** Context size in tokens (prompt + answer). Default 2048. */
  nCtx?: number;
  /** Where wllama.wasm is (default: beside the npm package). */
  wasmPath?: string;
}

const WASM_URL = new URL(
  import.meta.resolve("@wllama/wllama/esm/wasm/wllama.wasm"),
);

/** A storage backend that holds nothing and accepts nothing: no download can happen. */
const NO_STORAGE = {
  isSupported: () => true,
  read: () => Promise.resolve(null),
  write: () => Promise.reject(new Error("isartor never downloads at request time")),
  getSize: () => Promise.resolve(-1),
  list: () => Promise.resolve([]),
  delete: () => Promise.resolve(),
};

const quiet = {
  debug: () => {},
  log: () => {},
  warn: (...a: unknown[]) => console.warn("[isartor] wllama:", ...a),
  error: (...a: unknown[]) => console.error("[isartor] wllama:", ...a),
};

/** Runs `fn` with Blob wrapped so JavaScript blobs start by removing `process` (see the module doc). */
async function withWorkerPatch<T>(fn: () => Promise<T>): Promise<T> {
  const RealBlob = globalThis.Blob;
  class WorkerBlob extends RealBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      if (
        options?.type === "text/javascript" && parts?.length === 1 && typeof parts[0] === "string"
      ) {
        parts = [`delete globalThis.process;\n${parts[0]}`];
      }
      super(parts, options);
    }
  }
  globalThis.Blob = WorkerBlob;
  const hadLocation = typeof globalThis.location !== "undefined";
  if (!hadLocation) {
    Object.defineProperty(globalThis, "location", {
      value: new URL("http://localhost/"),
      configurable: true,
    });
  }
  try {
    return await fn();
  } finally {
    globalThis.Blob = RealBlob;
  }
}

type Chunk = {
  choices?: {
    delta?: { content?: string | null };
    finish_reason?: string | null;
    logprobs?: unknown;
  }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
};

/** A loaded in-process model. */
export class EmbeddedSlm implements SlmBackend {
  readonly kind = "embedded";
  constructor(readonly model: string, readonly wllama: Wllama) {}

  async *generate(req: SlmRequest): AsyncGenerator<SlmChunk> {
    let iter: AsyncIterable<Chunk>;
    try {
      iter = await this.wllama.createChatCompletion(
        {
          messages: req.messages,
          max_tokens: req.maxTokens,
          temperature: req.temperature,
          ...(req.topLogprobs ? { logprobs: true, top_logprobs: req.topLogprobs } : {}),
          stream: true,
          // llama-server's own option (not in wllama's types): the last chunk carries usage.
          stream_options: { include_usage: true },
          abortSignal: req.signal,
        } as Parameters<Wllama["createChatCompletion"]>[0],
      ) as AsyncIterable<Chunk>;
    } catch (e) {
      throw new SlmError(`the embedded model failed: ${(e as Error).message}`);
    }
    let finish: "stop" | "length" | "other" = "other";
    let outputTokens = 0;
    let inputTokens = 0;
    let pieces = 0;
    try {
      for await (const chunk of iter) {
        if (chunk.usage) {
          inputTokens = chunk.usage.prompt_tokens ?? inputTokens;
          outputTokens = chunk.usage.completion_tokens ?? outputTokens;
        }
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        const text = choice.delta?.content ?? "";
        if (text) {
          pieces++;
          yield { type: "text", text, top: topOf(choice.logprobs) };
        }
        if (choice.finish_reason) {
          finish = choice.finish_reason === "stop"
            ? "stop"
            : choice.finish_reason === "length"
            ? "length"
            : "other";
        }
      }
    } catch (e) {
      if (req.signal.aborted) throw req.signal.reason ?? e;
      throw new SlmError(`the embedded model failed: ${(e as Error).message}`);
    }
    yield { type: "done", finish, inputTokens, outputTokens: outputTokens || pieces };
  }

  async close(): Promise<void> {
    await this.wllama.exit().catch(() => {});
  }
}

/**
 * Loads a GGUF file into wllama. Throws an {@linkcode SlmError} with one clear
 * message when the file is missing or llama.cpp refuses it.
 *
 * @example
 * ```ts ignore
 * const slm = await loadEmbeddedSlm({ modelPath: "/models/qwen2.5-0.5b-instruct-q4_k_m.gguf" });
 * for await (const c of slm.generate({ messages: [{ role: "user", content: "Hi" }], maxTokens: 8, temperature: 0, signal: new AbortController().signal })) console.log(c);
 * ```
 */
export async function loadEmbeddedSlm(options: EmbeddedSlmOptions): Promise<EmbeddedSlm> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await Deno.readFile(options.modelPath);
  } catch (e) {
    throw new SlmError(
      `cannot read the router model ${options.modelPath}: ${(e as Error).message}`,
    );
  }
  const wasm = await Deno.readFile(options.wasmPath ?? WASM_URL);
  const wasmUrl = URL.createObjectURL(new Blob([wasm], { type: "application/wasm" }));
  const wllama = new Wllama({ default: wasmUrl }, {
    suppressNativeLog: true,
    logger: quiet,
    cacheManager: new CacheManager([NO_STORAGE]),
  });
  try {
    await withWorkerPatch(() =>
      wllama.loadModel([new Blob([bytes])], {
        n_threads: 1,
        n_gpu_layers: 0,
        n_ctx: options.nCtx ?? 2048,
        n_parallel: 1,
      })
    );
  } catch (e) {
    await wllama.exit().catch(() => {});
    throw new SlmError(`llama.cpp could not load ${options.modelPath}: ${(e as Error).message}`);
  } finally {
    URL.revokeObjectURL(wasmUrl);
  }
  const name = options.model ?? options.modelPath.split("/").at(-1)!.replace(/\.gguf$/i, "");
  return new EmbeddedSlm(name, wllama);
}
