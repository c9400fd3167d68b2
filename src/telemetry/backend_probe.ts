/**
 * One look at the remote model backends the configuration names (the L1b
 * embedding server, the L2 router's model server), for `isartor check` and
 * `/health`: whether each answers, how fast, and what is wrong when not.
 * The cache store has its own probe (src/cache/store_probe.ts).
 *
 * @module
 */

import type { Config } from "../config/schema.ts";
import { configuredBackend } from "../embed/build.ts";
import { connectRemoteEmbedder } from "../embed/remote.ts";
import { isRemoteRouter } from "../slm/build.ts";
import { chatCompletionsUrl } from "../slm/remote.ts";

/** What a probe found about one backend. */
export interface BackendProbe {
  /** The layer it serves: "l1b embedder" or "l2 router". */
  layer: string;
  backend: string;
  /** The URL asked. */
  target: string;
  status: "ok" | "unreachable" | "error";
  latency_ms: number | null;
  message: string;
}

/** Probes every remote backend the config turns on; none configured gives []. */
export function probeRemoteBackends(
  config: Config,
  timeoutS: number,
  fetchImpl: typeof fetch = fetch,
): Promise<BackendProbe[]> {
  const probes: Promise<BackendProbe>[] = [];
  const semantic = config.cache_mode === "semantic" || config.cache_mode === "both";
  if (semantic && configuredBackend(config) === "remote") {
    probes.push(probeEmbeddingServer(config, timeoutS, fetchImpl));
  }
  if (config.enable_slm_router && isRemoteRouter(config) && config.vllm_url) {
    probes.push(probeRouterServer(config, timeoutS, fetchImpl));
  }
  return Promise.all(probes);
}

/** One small embedding request, the same one the gateway makes at start. */
async function probeEmbeddingServer(
  config: Config,
  timeoutS: number,
  fetchImpl: typeof fetch,
): Promise<BackendProbe> {
  const s = config.embedding_sidecar;
  const base = { layer: "l1b embedder", backend: "remote", target: s.sidecar_url };
  if (!s.sidecar_url) {
    return {
      ...base,
      status: "error",
      latency_ms: null,
      message: "embedding_sidecar.sidecar_url is empty",
    };
  }
  const started = performance.now();
  try {
    const e = await connectRemoteEmbedder({
      url: s.sidecar_url,
      model: s.model_name || undefined,
      timeoutMs: Math.min(timeoutS, s.timeout_seconds) * 1000,
      fetch: fetchImpl,
    });
    return {
      ...base,
      target: e.endpoint,
      status: "ok",
      latency_ms: elapsed(started),
      message: `answers (${e.api === "tei" ? "TEI" : "OpenAI"} API, ${e.model}, ${e.dims} dims)`,
    };
  } catch (err) {
    const message = (err as Error).message;
    const reached = /answered HTTP|did not answer JSON|unexpected answer/.test(message);
    return {
      ...base,
      status: reached ? "error" : "unreachable",
      latency_ms: null,
      message,
    };
  }
}

/** `GET /v1/models` on the router's server: it answers, and whether it serves `vllm_model`. */
async function probeRouterServer(
  config: Config,
  timeoutS: number,
  fetchImpl: typeof fetch,
): Promise<BackendProbe> {
  const target = chatCompletionsUrl(config.vllm_url).replace(/\/chat\/completions$/, "/models");
  const base = { layer: "l2 router", backend: config.router_backend, target };
  const started = performance.now();
  let res: Response;
  try {
    res = await fetchImpl(target, { signal: AbortSignal.timeout(timeoutS * 1000) });
  } catch (err) {
    const e = err as Error;
    return {
      ...base,
      status: "unreachable",
      latency_ms: null,
      message: e.name === "TimeoutError" ? `no answer within ${timeoutS} s` : e.message,
    };
  }
  const latency = elapsed(started);
  if (!res.ok) {
    await res.body?.cancel();
    // Some servers (older TGI) have no model list; they answered, which is what we can know.
    return res.status === 404
      ? { ...base, status: "ok", latency_ms: latency, message: "answers (no /v1/models list)" }
      : { ...base, status: "error", latency_ms: latency, message: `answered HTTP ${res.status}` };
  }
  const ids = await res.json().then(
    (j: { data?: { id?: unknown }[] }) =>
      Array.isArray(j?.data) ? j.data.map((m) => String(m?.id ?? "")) : null,
    () => null,
  );
  if (ids === null || ids.includes(config.vllm_model)) {
    return {
      ...base,
      status: "ok",
      latency_ms: latency,
      message: `answers (${config.vllm_model})`,
    };
  }
  return {
    ...base,
    status: "error",
    latency_ms: latency,
    message: `answers but does not serve vllm_model "${config.vllm_model}" (it serves: ${
      ids.slice(0, 5).join(", ") || "nothing"
    })`,
  };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

/**
 * The probe for `/health`: at most one round of probes per `ttlMs` however
 * often it is polled, each waiting at most `timeoutS`.
 */
export function healthProbe(
  config: Config,
  { ttlMs = 5000, timeoutS = 2, fetchImpl = fetch }: {
    ttlMs?: number;
    timeoutS?: number;
    fetchImpl?: typeof fetch;
  } = {},
): () => Promise<BackendProbe[]> {
  let last: { at: number; result: Promise<BackendProbe[]> } | null = null;
  return () => {
    if (!last || Date.now() - last.at > ttlMs) {
      last = { at: Date.now(), result: probeRemoteBackends(config, timeoutS, fetchImpl) };
    }
    return last.result;
  };
}
