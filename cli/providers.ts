/**
 * `isartor providers`: every provider the gateway can call (the table in
 * src/providers/table.ts), which of them form the configured chain, whether a
 * key is set for each, and, when a gateway is running, how its calls to each
 * went (from its /metrics).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { PROVIDERS } from "../src/providers/table.ts";
import { buildTargets, type Target } from "../src/providers/targets.ts";
import { loadCliConfig } from "./config.ts";
import { type CliIO, EXIT, style } from "./io.ts";
import { gatewayUrl } from "./stats.ts";

export const usage = `isartor providers [--json] [--url URL]

Lists every provider isartor can call: its base URL and default model, where
it sits in the configured chain (primary, fallback 1, ...), whether a key is
set for it, and, when the gateway is running, the outcome of its calls so far.

Options:
  --json      one JSON object: {"chain": [...], "providers": [...], "gateway": ...}
  --url URL   the gateway to ask for call outcomes (default: the running one)

Examples:
  isartor providers
  isartor providers --json | jq '.chain'
  isartor set-key -p nvidia     then it shows as "key set"`;

/** The outcome counts of one provider's upstream calls, by outcome ("ok", "429", "timeout"...). */
export type Outcomes = Record<string, number>;

/**
 * Reads `isartor_upstream_attempts_total{provider,outcome}` from a Prometheus text body.
 *
 * @example
 * ```ts
 * upstreamOutcomes('isartor_upstream_attempts_total{outcome="ok",provider="groq"} 3');
 * // { groq: { ok: 3 } }
 * ```
 */
export function upstreamOutcomes(metrics: string): Record<string, Outcomes> {
  const out: Record<string, Outcomes> = {};
  for (const line of metrics.split("\n")) {
    if (!line.startsWith("isartor_upstream_attempts_total{")) continue;
    const provider = /provider="([^"]*)"/.exec(line)?.[1];
    const outcome = /outcome="([^"]*)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (!provider || !outcome || !Number.isFinite(value)) continue;
    (out[provider] ??= {})[outcome] = value;
  }
  return out;
}

/** A one-word health from call outcomes: "ok", "failing", "mixed" or "no calls yet". */
export function health(outcomes: Outcomes | undefined): string {
  if (!outcomes) return "no calls yet";
  const ok = outcomes.ok ?? 0;
  const failed = Object.entries(outcomes).filter(([k]) => k !== "ok").reduce(
    (n, [, v]) => n + v,
    0,
  );
  if (failed === 0) return ok ? "ok" : "no calls yet";
  return ok === 0 ? "failing" : "mixed";
}

interface ChainEntry {
  position: number;
  provider: string;
  base_url: string;
  model: string;
  keys: number;
  health: string | null;
  outcomes: Outcomes | null;
}

function role(position: number): string {
  return position === 0 ? "primary" : `fallback ${position}`;
}

function chainEntry(t: Target, outcomes: Record<string, Outcomes> | null): ChainEntry {
  return {
    position: t.position,
    provider: t.name,
    base_url: t.baseUrl,
    model: t.model || t.spec.defaultModel,
    keys: t.keys.size,
    health: outcomes ? health(outcomes[t.name]) : null,
    outcomes: outcomes ? outcomes[t.name] ?? {} : null,
  };
}

/** The running gateway's upstream outcomes, or null when none answers. */
async function fetchOutcomes(
  url: string,
  gatewayKey: string,
): Promise<Record<string, Outcomes> | null> {
  const headers: Record<string, string> = {};
  if (gatewayKey) headers.authorization = `Bearer ${gatewayKey}`;
  try {
    const res = await fetch(`${url}/metrics`, { headers, signal: AbortSignal.timeout(3000) });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    return upstreamOutcomes(await res.text());
  } catch {
    return null;
  }
}

/** Runs `isartor providers`. */
export async function runProviders(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: "boolean" },
      url: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    io.out(usage);
    return EXIT.ok;
  }
  const { config } = loadCliConfig();
  const targets = buildTargets(config);
  const url = (values.url ?? gatewayUrl(config)).replace(/\/+$/, "");
  const outcomes = await fetchOutcomes(url, config.gateway_api_key);
  const chain = targets.map((t) => chainEntry(t, outcomes));
  const inChain = new Map(targets.map((t) => [t.name, t]));
  const providers = Object.values(PROVIDERS).map((spec) => {
    const t = inChain.get(spec.name);
    return {
      name: spec.name,
      label: spec.label,
      base_url: spec.baseUrl || "(set external_llm_url)",
      default_model: spec.defaultModel,
      local: spec.local === true,
      in_chain: t ? role(t.position) : null,
      key_set: t ? t.keys.size > 0 : false,
    };
  });
  if (values.json) {
    io.out(JSON.stringify({ gateway: outcomes ? url : null, chain, providers }, null, 2));
    return EXIT.ok;
  }
  io.out(style(io, "Chain (tried in order):", "bold"));
  for (const c of chain) {
    const keyText = c.keys > 0
      ? `${c.keys} key${c.keys > 1 ? "s" : ""}`
      : PROVIDERS[c.provider].local || PROVIDERS[c.provider].auth === "none"
      ? "no key needed"
      : "no key (clients' keys pass through)";
    const healthText = c.health === null
      ? "gateway not running"
      : `${c.health}${
        c.outcomes && Object.keys(c.outcomes).length
          ? ` (${Object.entries(c.outcomes).map(([k, v]) => `${k} ${v}`).join(", ")})`
          : ""
      }`;
    io.out(
      `  ${role(c.position).padEnd(11)} ${
        c.provider.padEnd(18)
      } ${c.model}  ·  ${keyText}  ·  ${healthText}`,
    );
  }
  io.out("");
  io.out(style(io, "All providers:", "bold"));
  const width = Math.max(...providers.map((p) => p.name.length));
  for (const p of providers) {
    const mark = p.in_chain
      ? style(io, `[${p.in_chain}${p.key_set ? ", key set" : ""}]`, "green")
      : "";
    io.out(
      `  ${p.name.padEnd(width)}  ${p.base_url}  (${
        p.default_model || "no default model"
      }) ${mark}`,
    );
  }
  io.out("");
  io.out("Add one: isartor set-key -p <name>, or [[fallback_providers]] in isartor.toml");
  return EXIT.ok;
}
