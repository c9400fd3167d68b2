/**
 * Scenario `context_optimiser`: what L2.5 saves on real agent requests, and what it costs.
 *
 * The requests are the 10-turn sessions real CLIs sent against the mock provider
 * (bench/data/agent_requests/, made by bench/capture/; their project has the instruction file
 * bench/capture/instructions.md, and turn 1 runs a build whose log repeats a line 40 times).
 * For each request: bytes of the body (tools included) before and after the rewrite, and
 * tokens before and after, counted with o200k_base (gpt-tokenizer, here only: the gateway
 * itself estimates, src/optimise/tokens.ts, and the estimate's error is reported). Per session:
 * the totals over its requests, and whether every request's rewritten prefix equals the
 * previous request's (the provider's prompt cache keeps hitting).
 *
 * Cost: the layer's work per request (rewrite, `JSON.stringify`, UTF-8 encode) on each
 * session's last request, against two baselines timed in the same run on the same body: the
 * `JSON.parse` every request pays, and the exact-cache key (canonical JSON + SHA-256) every
 * cacheable request pays. Target: at most 1x the cache key.
 *
 * @module
 */

import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { exactKey } from "../../src/cache/cache_key.ts";
import { optimiseRequest } from "../../src/optimise/request.ts";
import type { WireProtocol } from "../../src/protocol/events.ts";
import {
  AGENT_FIXTURES,
  type AgentFixture,
  loadAgentFixture,
  rebuildSession,
} from "../data/agent_requests.ts";
import { fmt } from "../format.ts";
import { checkTarget, round } from "../stats.ts";
import type { ScenarioContext, ScenarioResult, Table, TargetCheck } from "../types.ts";
import { SETTINGS, timeOp } from "./cache_key.ts";

/** Scenario id. */
export const name = "context_optimiser";

/** What the scenario measures. */
export const description =
  "L2.5 on captured Claude Code / Codex / opencode / Gemini CLI sessions: bytes and tokens saved, CPU per request";

const RULES = { minify: true, dedup: true };
const encoder = new TextEncoder();
const bytes = (s: string) => encoder.encode(s).byteLength;

/** o200k tokens of every string in a body (the prompt text; JSON syntax left out), memoised. */
const tokenMemo = new Map<string, number>();
function promptTokens(v: unknown): number {
  if (typeof v === "string") {
    let n = tokenMemo.get(v);
    if (n === undefined) tokenMemo.set(v, n = countTokens(v));
    return n;
  }
  if (Array.isArray(v)) return v.reduce((a: number, x) => a + promptTokens(x), 0);
  if (v && typeof v === "object") {
    return Object.values(v).reduce((a: number, x) => a + promptTokens(x), 0);
  }
  return 0;
}

interface SessionFigures {
  cli: string;
  protocol: string;
  requests: number;
  bytes_before: number;
  bytes_saved: number;
  tokens_before: number;
  tokens_saved: number;
  /** The gateway's own estimate of the tokens saved (what `X-Isartor-Context-Optimized` says). */
  estimated_tokens_saved: number;
  /** The request that saved the most. */
  max_request: {
    bytes_before: number;
    bytes_saved: number;
    tokens_before: number;
    tokens_saved: number;
  };
  /** Requests whose rewritten shared prefix equals the previous request's, of those after the first. */
  prefix_stable: number;
  prefix_checked: number;
  cost: {
    optimise_p50_ms: number;
    optimise_p99_ms: number;
    parse_p50_ms: number;
    cache_key_p50_ms: number;
    /** optimise / parse. */
    ratio: number;
    /** optimise / exact-cache key. */
    key_ratio: number;
  };
}

function session(f: AgentFixture, s: (typeof SETTINGS)["full"]): SessionFigures {
  const protocol = f.protocol as WireProtocol;
  const requests = rebuildSession(f);
  const fig: SessionFigures = {
    cli: f.cli,
    protocol,
    requests: requests.length,
    bytes_before: 0,
    bytes_saved: 0,
    tokens_before: 0,
    tokens_saved: 0,
    estimated_tokens_saved: 0,
    max_request: { bytes_before: 0, bytes_saved: 0, tokens_before: 0, tokens_saved: 0 },
    prefix_stable: 0,
    prefix_checked: 0,
    cost: {
      optimise_p50_ms: 0,
      optimise_p99_ms: 0,
      parse_p50_ms: 0,
      cache_key_p50_ms: 0,
      ratio: 0,
      key_ratio: 0,
    },
  };
  let prev: { items: string[]; out: string[] } | null = null;
  for (const r of requests) {
    const res = optimiseRequest(protocol, r.body, RULES);
    const out = res?.body ?? r.body;
    const b0 = bytes(JSON.stringify(r.body)) + r.toolsBytes;
    const b1 = bytes(JSON.stringify(out)) + r.toolsBytes;
    const t0 = promptTokens(r.body) + r.toolsTokens;
    const t1 = promptTokens(out) + r.toolsTokens;
    fig.bytes_before += b0;
    fig.bytes_saved += b0 - b1;
    fig.tokens_before += t0;
    fig.tokens_saved += t0 - t1;
    fig.estimated_tokens_saved += res?.tokensSaved ?? 0;
    if (b0 - b1 > fig.max_request.bytes_saved) {
      fig.max_request = {
        bytes_before: b0,
        bytes_saved: b0 - b1,
        tokens_before: t0,
        tokens_saved: t0 - t1,
      };
    }
    const items = (r.body[f.list] as unknown[]).map((x) => JSON.stringify(x));
    const outItems = (out[f.list] as unknown[]).map((x) => JSON.stringify(x));
    if (prev) {
      let same = 0;
      while (same < items.length && items[same] === prev.items[same]) same++;
      fig.prefix_checked++;
      if (outItems.slice(0, same).every((x, i) => x === prev!.out[i])) fig.prefix_stable++;
    }
    prev = { items, out: outItems };
  }
  // The layer's work on the last (largest) request, against parsing it.
  const last = requests.at(-1)!;
  const raw = JSON.stringify(last.body);
  const parsed = JSON.parse(raw);
  const opt = timeOp(() => {
    const res = optimiseRequest(protocol, parsed, RULES);
    return res ? String(encoder.encode(JSON.stringify(res.body)).byteLength) : "";
  }, s);
  const parse = timeOp(() => (JSON.parse(raw) as Record<string, unknown>) ? "x" : "", s);
  const headers = new Headers({ "content-type": "application/json" });
  const key = timeOp(() => exactKey(protocol, parsed, "model", headers), s);
  fig.cost = {
    optimise_p50_ms: round(opt.p50_ms, 4),
    optimise_p99_ms: round(opt.p99_ms, 4),
    parse_p50_ms: round(parse.p50_ms, 4),
    cache_key_p50_ms: round(key.p50_ms, 4),
    ratio: round(opt.p50_ms / parse.p50_ms, 2),
    key_ratio: round(opt.p50_ms / key.p50_ms, 2),
  };
  return fig;
}

const pct = (part: number, whole: number) => `${fmt((100 * part) / Math.max(whole, 1), 2)}%`;

/** Runs the scenario. */
export async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const s = ctx.quick ? SETTINGS.quick : SETTINGS.full;
  const sessions: Record<string, SessionFigures> = {};
  const notes: string[] = [];
  for (const id of AGENT_FIXTURES) {
    let f: AgentFixture;
    try {
      f = await loadAgentFixture(id);
    } catch {
      notes.push(`${id}: no fixture (not captured)`);
      continue;
    }
    ctx.log(`  ${id}: ${f.turns.length} requests`);
    sessions[id] = session(f, s);
  }
  const all = Object.values(sessions);
  const worstRatio = Math.max(...all.map((x) => x.cost.key_ratio));
  const targets: Record<string, TargetCheck> = {
    cpu_vs_cache_key: checkTarget(
      "L2.5 work per request (worst session) / exact-cache key of the same body",
      worstRatio,
      "ratio",
      "<=",
      1,
    ),
    prefix_stable: checkTarget(
      "requests whose rewritten prefix changed from the previous request's",
      all.reduce((a, x) => a + x.prefix_checked - x.prefix_stable, 0),
      "requests",
      "<=",
      0,
    ),
  };
  const tables: Table[] = [{
    title: "L2.5 context optimiser on captured agent sessions (tokens: o200k_base)",
    columns: [
      "session",
      "requests",
      "bytes saved",
      "tokens saved",
      "est. tokens",
      "best request",
      "prefix stable",
      "p50 ms",
      "x parse",
      "x key",
    ],
    rows: Object.entries(sessions).map(([id, x]) => [
      `${id} (${x.protocol})`,
      String(x.requests),
      `${fmt(x.bytes_saved, 0)} / ${fmt(x.bytes_before, 0)} (${
        pct(x.bytes_saved, x.bytes_before)
      })`,
      `${fmt(x.tokens_saved, 0)} / ${fmt(x.tokens_before, 0)} (${
        pct(x.tokens_saved, x.tokens_before)
      })`,
      fmt(x.estimated_tokens_saved, 0),
      `${fmt(x.max_request.tokens_saved, 0)} tok (${
        pct(x.max_request.tokens_saved, x.max_request.tokens_before)
      })`,
      `${x.prefix_stable}/${x.prefix_checked}`,
      fmt(x.cost.optimise_p50_ms, 3),
      fmt(x.cost.ratio, 2),
      fmt(x.cost.key_ratio, 2),
    ]),
  }];
  notes.push(
    "Bytes: JSON body with its tools. Tokens: o200k_base over the prompt's strings plus the tools' JSON. " +
      "Savings depend on the project's instruction file (bench/capture/instructions.md) and on tool output.",
  );
  return { data: { sessions }, targets, tables, notes };
}
