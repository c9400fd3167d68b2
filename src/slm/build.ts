/**
 * Builds L2's backend from the configuration: where the model is, which
 * hosts and files the gateway needs for it, and what `isartor check` says.
 *
 * @module
 */

import type { Config } from "../config/schema.ts";
import { locateModel, type ModelEnv, modelPaths } from "../embed/models.ts";
import type { ModelManifest } from "../embed/model_files.ts";
import type { SlmBackend } from "./backend.ts";
import { RemoteSlm } from "./remote.ts";
import { ggufFileOf, QWEN2_5_0_5B_INSTRUCT_Q4 } from "./router_model.ts";

/** Whether L2 talks to a server (`vllm` and `remote` are the same thing). */
export function isRemoteRouter(config: Config): boolean {
  return config.router_backend === "vllm" || config.router_backend === "remote";
}

/**
 * Why the L2 configuration cannot work, as one line; null when it can.
 *
 * @example
 * ```ts
 * import { ConfigSchema } from "../config/schema.ts";
 * routerProblem(ConfigSchema.parse({ enable_slm_router: true, router_backend: "remote" }));
 * // 'config error: router_backend = "remote" needs vllm_url; fix: ...'
 * ```
 */
export function routerProblem(config: Config): string | null {
  if (!config.enable_slm_router || !isRemoteRouter(config)) return null;
  if (!config.vllm_url) {
    return `config error: router_backend = "${config.router_backend}" needs vllm_url; fix: set vllm_url to the model server's base URL, e.g. "http://127.0.0.1:8000/v1"`;
  }
  try {
    const u = new URL(config.vllm_url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
  } catch {
    return `config error: vllm_url = ${
      JSON.stringify(config.vllm_url)
    } is not an http(s) URL; fix: e.g. "http://127.0.0.1:8000/v1"`;
  }
  if (!config.vllm_model) {
    return `config error: router_backend = "${config.router_backend}" needs vllm_model; fix: set it to the model the server serves`;
  }
  return null;
}

/** The GGUF file the embedded backend loads: `model_path`, or the pinned default (sizes checked); null when absent. */
export async function routerModelFile(
  config: Config,
  env: ModelEnv = {},
  manifest: ModelManifest = QWEN2_5_0_5B_INSTRUCT_Q4,
): Promise<string | null> {
  if (config.model_path) {
    try {
      return (await Deno.stat(config.model_path)).isFile ? config.model_path : null;
    } catch {
      return null;
    }
  }
  const { found } = await locateModel(manifest, modelPaths(config, env), false);
  return found ? `${found.folder}/${ggufFileOf(manifest)}` : null;
}

/**
 * The backend of the configuration. The embedded one loads in the background
 * (a promise: L2 passes until it is ready); a missing model is an error that
 * names the command that fetches it. Never downloads.
 */
export function buildRouterBackend(
  config: Config,
  env: ModelEnv = {},
): SlmBackend | Promise<SlmBackend> {
  if (isRemoteRouter(config)) {
    return new RemoteSlm({ url: config.vllm_url, model: config.vllm_model });
  }
  return (async () => {
    const file = await routerModelFile(config, env);
    if (!file) {
      throw new Error(
        config.model_path
          ? `model_path ${config.model_path} does not exist; fix: point it at a GGUF file`
          : `the router model ${QWEN2_5_0_5B_INSTRUCT_Q4.name} is missing; fix: run \`isartor models pull --model ${QWEN2_5_0_5B_INSTRUCT_Q4.name}\``,
      );
    }
    const { loadEmbeddedSlm } = await import("./embedded.ts");
    return await loadEmbeddedSlm({
      modelPath: file,
      model: config.model_path ? undefined : QWEN2_5_0_5B_INSTRUCT_Q4.model,
    });
  })();
}

/** The host:port the gateway must reach for a remote router, or null. */
export function routerHost(config: Config): string | null {
  if (!config.enable_slm_router || !isRemoteRouter(config) || !config.vllm_url) return null;
  try {
    const u = new URL(config.vllm_url);
    return `${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
  } catch {
    return null;
  }
}

/** The files the gateway reads for the embedded router: the model and wllama's WASM. */
export function routerReadPaths(config: Config, env: ModelEnv = {}): string[] {
  if (!config.enable_slm_router || isRemoteRouter(config)) return [];
  const p = modelPaths(config, env);
  const wasm = new URL(import.meta.resolve("@wllama/wllama/esm/wasm/wllama.wasm"));
  return [
    config.model_path || p.modelsDir,
    ...(p.hfHubDir ? [p.hfHubDir] : []),
    wasm.protocol === "file:" ? decodeURIComponent(wasm.pathname) : "",
  ].filter(Boolean);
}

/** One line for `isartor check`: whether L2 is on, its backend, and whether its model is there. */
export async function routerStatus(config: Config, env: ModelEnv = {}): Promise<string> {
  if (!config.enable_slm_router) return "off (enable_slm_router = false)";
  const mode =
    `classifier ${config.layer2.classifier_mode}, timeout ${config.layer2.timeout_seconds} s`;
  if (isRemoteRouter(config)) {
    return `on: ${config.router_backend} server ${config.vllm_url || "(vllm_url missing)"}, model ${
      config.vllm_model || "(vllm_model missing)"
    }, ${mode}`;
  }
  const file = await routerModelFile(config, env);
  return file
    ? `on: embedded (wllama), model present at ${file}, ${mode}`
    : `on: embedded (wllama), model missing: run \`isartor models pull --model ${QWEN2_5_0_5B_INSTRUCT_Q4.name}\` (until then L2 passes every request on)`;
}
