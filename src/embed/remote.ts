/**
 * The remote embedder (backend `"remote"`): an embedding server, either
 * Hugging Face Text Embeddings Inference (`POST /embed` with `{"inputs": [...]}`,
 * answering `[[...], ...]`) or any OpenAI-compatible server
 * (`POST /v1/embeddings` with `{"model", "input": [...]}`, answering
 * `{"data": [{"embedding": [...], "index": 0}, ...]}`). Vectors are
 * L2-normalized here, whatever the server does.
 *
 * Which API: a URL ending in `/embed` is TEI, one ending in `/embeddings` (or
 * `/v1`) is OpenAI-compatible; a bare base URL is tried as TEI first, then as
 * OpenAI-compatible, by {@linkcode connectRemoteEmbedder}, which also learns
 * the vector length from a first request.
 *
 * @module
 */

import type { Embedder } from "./embedder.ts";

/** The two wire formats. */
export type RemoteApi = "tei" | "openai";

/** Options of a remote embedder. */
export interface RemoteOptions {
  /** Base URL, or the full `/embed` or `/v1/embeddings` URL. */
  url: string;
  /** Model name sent to OpenAI-compatible servers (TEI ignores it). */
  model?: string;
  /** Per-request timeout, ms. Default 10000. */
  timeoutMs?: number;
  /** Bearer token, when the server wants one. */
  apiKey?: string;
  /** The fetch to use (tests inject one). */
  fetch?: typeof fetch;
}

/** An embedding server problem, phrased for the person who has to fix it. */
export class RemoteEmbedError extends Error {
  override name = "RemoteEmbedError";
}

/** The endpoint to call for a URL and API. */
export function endpointFor(url: string, api: RemoteApi): string {
  const base = url.replace(/\/+$/, "");
  if (api === "tei") return base.endsWith("/embed") ? base : `${base}/embed`;
  if (base.endsWith("/embeddings")) return base;
  return base.endsWith("/v1") ? `${base}/embeddings` : `${base}/v1/embeddings`;
}

/** The API a URL names explicitly, or null for a bare base URL. */
export function apiOfUrl(url: string): RemoteApi | null {
  const path = url.replace(/\/+$/, "");
  if (path.endsWith("/embed")) return "tei";
  if (path.endsWith("/embeddings") || path.endsWith("/v1")) return "openai";
  return null;
}

function normalize(values: unknown, at: string): Float32Array {
  if (
    !Array.isArray(values) || values.length === 0 || !values.every((x) => typeof x === "number")
  ) {
    throw new RemoteEmbedError(`${at}: expected an array of numbers`);
  }
  const v = Float32Array.from(values as number[]);
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  if (!(norm > 0) || !Number.isFinite(norm)) {
    throw new RemoteEmbedError(`${at}: a zero or non-finite vector`);
  }
  for (let i = 0; i < v.length; i++) v[i] /= norm;
  return v;
}

/** Parses a TEI or OpenAI answer into vectors, in input order. */
export function parseEmbeddings(api: RemoteApi, body: unknown, count: number): Float32Array[] {
  let rows: unknown[];
  if (api === "tei") {
    if (!Array.isArray(body)) {
      throw new RemoteEmbedError("the answer is not a JSON array of vectors");
    }
    rows = body;
  } else {
    const data = (body as { data?: unknown })?.data;
    if (!Array.isArray(data)) throw new RemoteEmbedError('the answer has no "data" array');
    const ordered = [...data].sort((a, b) =>
      ((a as { index?: number })?.index ?? 0) - ((b as { index?: number })?.index ?? 0)
    );
    rows = ordered.map((d) => (d as { embedding?: unknown })?.embedding);
  }
  if (rows.length !== count) {
    throw new RemoteEmbedError(`${rows.length} vectors for ${count} texts`);
  }
  return rows.map((r, i) => normalize(r, `vector ${i}`));
}

/** Embeds through an embedding server; build it with {@linkcode connectRemoteEmbedder}. */
export class RemoteEmbedder implements Embedder {
  readonly name = "remote";
  readonly model: string;
  readonly dims: number;
  /** The wire format in use. */
  readonly api: RemoteApi;
  /** The URL requests go to. */
  readonly endpoint: string;
  #options: RemoteOptions;

  constructor(options: RemoteOptions, api: RemoteApi, dims: number, model?: string) {
    this.#options = options;
    this.api = api;
    this.dims = dims;
    this.endpoint = endpointFor(options.url, api);
    this.model = model || options.model || (api === "tei" ? "tei" : "remote");
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const vectors = await requestEmbeddings(this.#options, this.api, texts);
    for (const v of vectors.vectors) {
      if (v.length !== this.dims) {
        throw new RemoteEmbedError(
          `the embedding server at ${this.endpoint} returned ${v.length} dimensions, expected ${this.dims}`,
        );
      }
    }
    return vectors.vectors;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function requestEmbeddings(
  options: RemoteOptions,
  api: RemoteApi,
  texts: string[],
): Promise<{ vectors: Float32Array[]; model?: string; status: number }> {
  const endpoint = endpointFor(options.url, api);
  const body = api === "tei"
    ? { inputs: texts, truncate: true }
    : { model: options.model ?? "", input: texts };
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(endpoint, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const err = e as Error;
    const why = err.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : err.message;
    throw new RemoteEmbedError(`the embedding server at ${endpoint} is unreachable: ${why}`);
  }
  if (!res.ok) {
    const text = (await res.text().catch(() => "")).slice(0, 200).replace(/\s+/g, " ");
    const err = new RemoteEmbedError(
      `the embedding server at ${endpoint} answered HTTP ${res.status}${text ? `: ${text}` : ""}`,
    );
    (err as RemoteEmbedError & { status?: number }).status = res.status;
    throw err;
  }
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new RemoteEmbedError(`the embedding server at ${endpoint} did not answer JSON`);
  }
  try {
    const model = api === "openai" ? (json as { model?: unknown }).model : undefined;
    return {
      vectors: parseEmbeddings(api, json, texts.length),
      model: typeof model === "string" ? model : undefined,
      status: res.status,
    };
  } catch (e) {
    throw new RemoteEmbedError(
      `unexpected answer from the embedding server at ${endpoint} (${
        api === "tei" ? "TEI" : "OpenAI"
      } format): ${(e as Error).message}`,
    );
  }
}

/**
 * Connects to an embedding server: picks the API (from the URL, else TEI then
 * OpenAI-compatible) and learns the vector length with one small request.
 * Rejects with one clear message when the server cannot be used.
 *
 * @example
 * ```ts ignore
 * const e = await connectRemoteEmbedder({ url: "http://127.0.0.1:8081" });
 * e.api; // "tei"
 * ```
 */
export async function connectRemoteEmbedder(options: RemoteOptions): Promise<RemoteEmbedder> {
  if (!/^https?:\/\//.test(options.url)) {
    throw new RemoteEmbedError(
      `embedding_sidecar.sidecar_url = ${JSON.stringify(options.url)} is not an http(s) URL`,
    );
  }
  const explicit = apiOfUrl(options.url);
  const apis: RemoteApi[] = explicit ? [explicit] : ["tei", "openai"];
  let lastError: Error | null = null;
  for (const api of apis) {
    try {
      const probe = await requestEmbeddings(options, api, ["isartor embedding probe"]);
      return new RemoteEmbedder(options, api, probe.vectors[0].length, probe.model);
    } catch (e) {
      lastError = e as Error;
      const status = (e as { status?: number }).status;
      // Only a route that does not exist sends us to the other API.
      if (status !== 404 && status !== 405) break;
    }
  }
  throw lastError ?? new RemoteEmbedError("no embedding API answered");
}
