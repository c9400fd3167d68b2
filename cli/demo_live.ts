/**
 * The live part of `isartor demo`: with a working provider key, one real round
 * trip through the gateway to the configured provider, then the same prompt
 * again to show which layer answers the replay.
 *
 * @module
 */

import { createGateway } from "../src/app.ts";
import { parseConfig } from "../src/config/load.ts";
import type { Config } from "../src/config/schema.ts";
import { buildTargets } from "../src/providers/targets.ts";
import { serveGateway } from "../src/server.ts";
import type { CliIO } from "./io.ts";
import { startSpinner } from "./spinner.ts";

/** The live round trip's time limit. */
const LIVE_TIMEOUT_SECS = 15;
const LIVE_PROMPT = "In one short sentence: what does a response cache do?";

/** One call of the live round trip. */
export interface LiveCall {
  layer: string;
  status: number;
  ms: number;
}

/** What the live round trip did. */
export interface LiveResult {
  ok: boolean;
  provider: string;
  model: string;
  prompt: string;
  first: LiveCall | null;
  replay: LiveCall | null;
  /** Why it failed, when it did. */
  error: string | null;
  /** Human-readable lines. */
  lines: string[];
}

/** The provider to try live: the primary one, when it has a key and is not a local server. */
export function liveTarget(config: Config): { name: string; label: string; model: string } | null {
  let target;
  try {
    target = buildTargets(config)[0];
  } catch {
    return null;
  }
  if (target.spec.local || target.spec.auth === "none" || target.keys.size === 0) return null;
  return {
    name: target.name,
    label: target.spec.label,
    model: target.model || target.spec.defaultModel,
  };
}

async function call(
  url: string,
  model: string,
): Promise<LiveCall & { error?: string; text?: string }> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": "isartor-demo" },
    body: JSON.stringify({
      model,
      max_tokens: 60,
      messages: [{ role: "user", content: LIVE_PROMPT }],
    }),
    signal: AbortSignal.timeout((LIVE_TIMEOUT_SECS + 2) * 1000),
  });
  const body = await res.json().catch(() => null);
  const ms = Math.round(performance.now() - started);
  const out = { layer: res.headers.get("x-isartor-layer") ?? "gateway", status: res.status, ms };
  if (!res.ok) {
    const message = body?.error?.message ?? `HTTP ${res.status}`;
    return { ...out, error: String(message) };
  }
  return { ...out, text: String(body?.choices?.[0]?.message?.content ?? "") };
}

/** Makes the live round trip; never throws (a failure is reported in the result). */
export async function liveRoundTrip(base: Config, dataDir: string, io: CliIO): Promise<LiveResult> {
  const target = liveTarget(base)!;
  const result: LiveResult = {
    ok: false,
    provider: target.name,
    model: target.model,
    prompt: LIVE_PROMPT,
    first: null,
    replay: null,
    error: null,
    lines: [],
  };
  const spinner = startSpinner(io, `asking ${target.label} (${target.model})...`);
  try {
    const config = parseConfig({
      ...base,
      host_port: "127.0.0.1:0",
      data_dir: dataDir,
      gateway_api_key: "",
      fallback_providers: [],
      l3_timeout_secs: LIVE_TIMEOUT_SECS,
      l3_max_retries: 0,
      offline_mode: false,
      // The round trip shows L3 and an L1a repeat; the model-free embedder spares
      // the MiniLM load (and its warning) that a second request never needs.
      embedding_backend: "none",
    });
    const server = await serveGateway(createGateway(config));
    try {
      const first = await call(server.url, target.model);
      result.first = { layer: first.layer, status: first.status, ms: first.ms };
      if (first.error) throw new Error(`${target.name} answered ${first.status}: ${first.error}`);
      const text = (first.text ?? "").replace(/\s+/g, " ").trim();
      result.lines.push(
        `live: ${first.layer} (${target.name}, ${target.model}) answered in ${first.ms}ms: "${
          text.length > 100 ? `${text.slice(0, 97)}...` : text
        }"`,
      );
      const replay = await call(server.url, target.model);
      result.replay = { layer: replay.layer, status: replay.status, ms: replay.ms };
      result.lines.push(
        `replay of the same prompt: answered by ${replay.layer} in ${replay.ms}ms${
          replay.layer === "l3" ? " (no cache layer answered it)" : " (no provider call)"
        }`,
      );
      result.ok = true;
    } finally {
      await server.shutdown();
    }
  } catch (e) {
    const message = e instanceof DOMException && e.name === "TimeoutError"
      ? `no answer within ${LIVE_TIMEOUT_SECS}s`
      : (e as Error).message;
    result.error = message;
    result.lines.push(
      `live round trip failed: ${message}; continuing with the simulation (check the key with \`isartor check\`)`,
    );
  } finally {
    spinner.stop();
  }
  return result;
}
