/**
 * One cheap live request per provider, for `isartor check`: list the models
 * (`GET {base}/models`) with the provider's own auth header. Listing models is
 * free on every provider, so checking never spends tokens.
 *
 * @module
 */

import { ProviderAuthError } from "../src/providers/copilot_token.ts";
import { endpointUrl, type Target, upstreamAuth } from "../src/providers/targets.ts";
import { PROVIDERS } from "../src/providers/table.ts";
import { maskKey } from "./credentials.ts";

/** The outcome of probing one provider. */
export interface ProbeResult {
  provider: string;
  /** The configured model, or "" (the client's model is forwarded). */
  model: string;
  /** The masked key used, or "" when none. */
  key: string;
  /** How many keys the provider's pool holds. */
  keys: number;
  /** The URL probed. */
  endpoint: string;
  /** `ok`, `http` (the provider answered with an error), `unreachable`, or `no key`. */
  status: "ok" | "http" | "unreachable" | "no key";
  /** The HTTP status, when the provider answered. */
  httpStatus: number | null;
  /** The provider's message, or why it was unreachable. */
  message: string;
  /** Round-trip time of the probe, when one was sent. */
  latencyMs: number | null;
  /** Position in the chain: 0 is the primary provider. */
  position: number;
}

/** The Anthropic API version sent with the probe. */
const ANTHROPIC_VERSION = "2023-06-01";

/** The provider's error message from an error body, shortened. */
export function providerMessage(text: string): string {
  let msg = "";
  try {
    const body = JSON.parse(text);
    const err = Array.isArray(body) ? body[0]?.error : body?.error;
    msg = typeof err === "string"
      ? err
      : typeof err?.message === "string"
      ? err.message
      : typeof body?.message === "string"
      ? body.message
      : typeof body?.detail === "string"
      ? body.detail
      : "";
  } catch {
    msg = text.replace(/<[^>]*>/g, " ");
  }
  msg = msg.replace(/\s+/g, " ").trim();
  return msg.length > 160 ? `${msg.slice(0, 157)}...` : msg;
}

/** Why a request never got an answer, in a few words. */
export function unreachableReason(e: unknown, timeoutSecs: number): string {
  const err = e as Error;
  if (err?.name === "TimeoutError" || err?.name === "AbortError") {
    return `no answer within ${timeoutSecs} s`;
  }
  const cause = (err as { cause?: { message?: string } })?.cause?.message;
  const text = `${err?.message ?? e}${cause ? `: ${cause}` : ""}`.replace(/^fetch failed: /i, "");
  if (/refused/i.test(text)) return "connection refused";
  if (/dns|lookup|resolve|name or service|nodename/i.test(text)) return "DNS lookup failed";
  if (/certificate|tls|ssl/i.test(text)) return "TLS error";
  if (/reset|closed|broken pipe/i.test(text)) return "connection closed";
  if (/requires net access|NotCapable|PermissionDenied/i.test(text)) return "network not allowed";
  if (/port \d+ .*blocked/i.test(text)) return text.match(/port \d+/i)![0] + " is blocked for HTTP";
  return text.split("\n")[0].slice(0, 120);
}

/** Probes one provider: `GET /models` with its auth, within `timeoutSecs`. */
export async function probeTarget(
  target: Target,
  timeoutSecs: number,
  fetchFn: typeof fetch = fetch,
): Promise<ProbeResult> {
  const first = target.keys.peek()?.key ?? null;
  const result: ProbeResult = {
    provider: target.name,
    model: target.model,
    key: first ? maskKey(first) : "",
    keys: target.keys.size,
    endpoint: endpointUrl(target, "models"),
    status: "ok",
    httpStatus: null,
    message: "",
    latencyMs: null,
    position: target.position,
  };
  if (first === null && target.spec.auth !== "none") {
    result.status = "no key";
    result.message = `no key stored; fix: isartor set-key -p ${target.name}${
      target.spec.auth === "copilot" ? " --device" : ""
    }`;
    return result;
  }
  const started = performance.now();
  try {
    // Copilot: the GitHub token's exchange is part of the check.
    const auth = await upstreamAuth(target, first, null);
    result.endpoint = endpointUrl({ ...target, baseUrl: auth.baseUrl }, "models");
    const headers: Record<string, string> = { accept: "application/json", ...auth.headers };
    if (target.spec.auth === "x-api-key") headers["anthropic-version"] = ANTHROPIC_VERSION;
    const res = await fetchFn(result.endpoint, {
      headers,
      signal: AbortSignal.timeout(timeoutSecs * 1000),
    });
    const text = await res.text();
    result.latencyMs = Math.round(performance.now() - started);
    result.httpStatus = res.status;
    if (!res.ok) {
      result.status = "http";
      result.message = providerMessage(text) || res.statusText;
    }
  } catch (e) {
    result.latencyMs = null;
    const refused = e instanceof ProviderAuthError && e.kind === "refused";
    result.status = refused ? "http" : "unreachable";
    result.message = e instanceof ProviderAuthError ? e.message : unreachableReason(e, timeoutSecs);
  }
  return result;
}

/** What to do about a failed probe. */
export function probeFix(r: ProbeResult): string {
  if (r.status === "no key") {
    const how = PROVIDERS[r.provider]?.auth === "copilot" ? " --device" : "";
    return `run \`isartor set-key -p ${r.provider}${how}\``;
  }
  if (r.status === "unreachable" && PROVIDERS[r.provider]?.local) {
    return `start ${PROVIDERS[r.provider].label} on ${
      new URL(r.endpoint).host
    }, or point isartor at it: isartor set-key -p ${r.provider} --url URL`;
  }
  if (r.status === "unreachable") {
    return `check that ${
      new URL(r.endpoint).host
    } is up and the URL is right (isartor set-key -p ${r.provider} --url URL)`;
  }
  if (r.httpStatus === 401 || r.httpStatus === 403) {
    return `the key was refused; store a valid one: isartor set-key -p ${r.provider}`;
  }
  if (r.httpStatus === 404) {
    return `no models endpoint at ${r.endpoint}; check the base URL (isartor set-key -p ${r.provider} --url URL)`;
  }
  if (r.httpStatus === 429) {
    return "rate limited or out of credit; check your plan, or add a key: isartor set-key --add";
  }
  return "the provider reported an error; try again, or check its status page";
}

/** The status cell of the table. */
export function statusText(r: ProbeResult): string {
  if (r.status === "ok") return "ok";
  if (r.status === "no key") return "no key";
  if (r.status === "unreachable") return `unreachable (${r.message})`;
  return `HTTP ${r.httpStatus}${r.message ? `: ${r.message}` : ""}`;
}
