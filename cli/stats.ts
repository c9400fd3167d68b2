/**
 * `isartor stats`: what the running gateway's stats API says: requests,
 * deflection per layer, tokens and estimated cost saved, client tools seen,
 * and the last requests.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Config } from "../src/config/schema.ts";
import type { Bucket, StatsReport } from "../src/telemetry/stats.ts";
import { loadCliConfig } from "./config.ts";
import { type CliIO, EXIT, style, UsageError } from "./io.ts";
import { formatRequest } from "./logs.ts";
import { gatewayFiles, readPidFile } from "./process.ts";
import { resolvePrices } from "../src/telemetry/prices.ts";
import type { RequestLogLine } from "../src/telemetry/request_log.ts";
import { type UsageReport, usageReport, windowMs } from "../src/telemetry/usage_window.ts";

export const usage =
  `isartor stats [--by-tool] [--usage [--window 24h|7d|30d]] [--json] [-n N] [--url URL]

Shows what the running gateway counted (kept across restarts): requests, the
share each layer answered, tokens and estimated cost saved, the client tools
seen (Claude Code, Codex, Gemini CLI, Copilot, Cursor, OpenCode, OpenClaw,
the SDKs...) and the last requests. Costs use provider_prices from the config,
else built-in estimates.

Options:
  --by-tool      a table per client tool
  --usage        tokens and cost by provider and model over a window, read
                 from the request log (<data_dir>/requests.jsonl); no
                 running gateway needed
  --window W     the --usage window: 24h (default), 7d, 30d, or any Nh / Nd
  --json         the raw stats API answer (GET /api/v1/stats)
  -n, --last N   how many recent requests to list (default 10, at most 50)
  --url URL      the gateway to ask (default: the running one, else host_port)

The key sent is admin_api_key (every tenant), else gateway_api_key (one
tenant). Keys made with \`isartor keys add\` are stored hashed, so the CLI
cannot read them back: put one in ISARTOR__GATEWAY_API_KEY to see its tenant.

Examples:
  isartor stats
  isartor stats --by-tool
  isartor stats --usage --window 7d
  isartor stats --json | jq .deflection_rate`;

const LAYER_LABELS: Record<string, string> = {
  l1a: "L1a exact cache",
  l1b: "L1b semantic cache",
  l2: "L2 router",
  l3: "L3 cloud",
  gateway: "refused by the gateway",
};

/** The running gateway's URL: the pid file's, else the configured address. */
export function gatewayUrl(config: Config): string {
  const info = readPidFile(gatewayFiles(config.data_dir).pid);
  if (info && info !== "broken") return info.url;
  const i = config.host_port.lastIndexOf(":");
  let host = config.host_port.slice(0, i);
  if (host === "0.0.0.0") host = "127.0.0.1";
  if (host === "::" || host === "[::]") host = "[::1]";
  return `http://${host}:${config.host_port.slice(i + 1)}`;
}

const num = (n: number) => Math.round(n).toLocaleString("en-US");
const pct = (part: number, whole: number) =>
  whole > 0 ? `${(100 * part / whole).toFixed(1)}%` : "-";

/** Dollars with enough digits to show small savings. */
export function usd(n: number): string {
  if (n === 0) return "$0";
  return n >= 1 ? `$${n.toFixed(2)}` : `$${n.toPrecision(2)}`;
}

function avgMs(b: Bucket): string {
  return b.requests ? `${Math.round(b.latency_ms_total / b.requests)}ms avg` : "";
}

function priceNote(r: StatsReport): string {
  const used = Object.keys(r.providers).filter((p) => r.prices[p]);
  const estimated = used.filter((p) => r.prices[p].source !== "config");
  const parts: string[] = [];
  if (estimated.length) {
    parts.push(`built-in estimates for ${estimated.join(", ")}; set provider_prices to use yours`);
  }
  if (r.unpriced_providers.length) {
    parts.push(`no price for ${r.unpriced_providers.join(", ")} (tokens counted, not dollars)`);
  }
  return parts.length ? ` (${parts.join("; ")})` : "";
}

/** The readable summary. */
export function summary(io: CliIO, r: StatsReport, url: string, last: number): string[] {
  const t = r.totals;
  const lines = [
    style(
      io,
      `isartor stats · ${url} · counting since ${r.since.slice(0, 16).replace("T", " ")}`,
      "bold",
    ),
    "",
    `  requests         ${num(t.requests)}${t.errors ? ` (${num(t.errors)} errors)` : ""}`,
    `  deflected        ${num(t.deflected)} (${
      pct(t.deflected, t.requests)
    }) answered without calling the cloud`,
  ];
  const order = ["l1a", "l1b", "l2", "l3", "gateway"];
  const names = [
    ...order.filter((l) => r.layers[l]),
    ...Object.keys(r.layers).filter((l) => !order.includes(l)),
  ];
  for (const name of names) {
    const b = r.layers[name];
    const label = (LAYER_LABELS[name] ?? name).padEnd(24);
    lines.push(
      `    ${label}${num(b.requests).padStart(7)}  ${pct(b.requests, t.requests).padStart(6)}  ${
        avgMs(b)
      }`,
    );
  }
  lines.push(
    `  tokens spent     ${num(t.input_tokens)} in / ${
      num(t.output_tokens)
    } out (sent to providers)`,
    `  tokens saved     ${num(t.saved_input_tokens)} in / ${num(t.saved_output_tokens)} out`,
    ...(t.optimised_requests
      ? [
        `  L2.5 optimiser   ${
          num(t.optimised_tokens_saved ?? 0)
        } prompt tokens removed (est.) from ${num(t.optimised_requests)} requests`,
      ]
      : []),
    `  est. cost saved  ${style(io, usd(t.saved_cost_usd), "green")}${priceNote(r)}`,
  );
  const tools = Object.entries(r.tools).sort((a, b) => b[1].requests - a[1].requests);
  lines.push(
    `  client tools     ${
      tools.length ? tools.map(([n, b]) => `${n} ${num(b.requests)}`).join(" · ") : "none yet"
    }`,
  );
  const recent = r.recent.slice(-last);
  if (recent.length) {
    lines.push("", style(io, `Last ${recent.length} requests:`, "bold"));
    for (const q of recent) lines.push(`  ${formatRequest(io, q)}`);
  }
  if (t.requests === 0) {
    lines.push("", `No requests yet: point a client at ${url}/v1 (OpenAI) or ${url} (Anthropic).`);
  }
  return lines;
}

/** The per-tool table. */
export function byToolTable(r: StatsReport): string[] {
  const rows = Object.entries(r.tools).sort((a, b) => b[1].requests - a[1].requests)
    .map(([name, b]) => [
      name,
      num(b.requests),
      num(b.deflected),
      pct(b.deflected, b.requests),
      num(b.saved_input_tokens + b.saved_output_tokens),
      usd(b.saved_cost_usd),
      b.requests ? `${Math.round(b.latency_ms_total / b.requests)}` : "-",
    ]);
  const head = ["TOOL", "REQUESTS", "DEFLECTED", "RATE", "TOKENS SAVED", "EST. SAVED", "AVG MS"];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const fmt = (row: string[]) =>
    row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return rows.length ? all.map(fmt) : ["no client tools seen yet"];
}

/** Runs `isartor stats`. */
export async function runStats(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "by-tool": { type: "boolean" },
      usage: { type: "boolean" },
      window: { type: "string" },
      json: { type: "boolean" },
      last: { type: "string", short: "n" },
      url: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    io.out(usage);
    return EXIT.ok;
  }
  const last = values.last === undefined ? 10 : Number(values.last);
  if (!Number.isInteger(last) || last < 0) {
    throw new UsageError(`--last must be a whole number, got "${values.last}"`);
  }
  const { config } = loadCliConfig();
  if (values.window !== undefined && !values.usage) throw new UsageError("--window needs --usage");
  if (values.usage) return usageCommand(io, config, values.window ?? "24h", values.json === true);
  const url = (values.url ?? gatewayUrl(config)).replace(/\/+$/, "");
  const headers: Record<string, string> = {};
  // The admin key sees every tenant; the gateway key only its own.
  const key = config.admin_api_key || config.gateway_api_key;
  if (key) headers.authorization = `Bearer ${key}`;
  let res: Response;
  try {
    res = await fetch(`${url}/api/v1/stats`, { headers, signal: AbortSignal.timeout(5000) });
  } catch {
    io.err(
      style(io, `isartor is not running at ${url}; start it with \`isartor up --detach\``, "red"),
    );
    return EXIT.failure;
  }
  if (res.status === 401) {
    await res.body?.cancel();
    io.err(
      config.gateway_keys.length && !config.admin_api_key
        ? `the gateway at ${url} refused the key: gateway_keys are stored hashed, so set ISARTOR__GATEWAY_API_KEY to one of them (its tenant) or admin_api_key (every tenant)`
        : `the gateway at ${url} refused the key: set the same gateway_api_key (or ISARTOR__GATEWAY_API_KEY) the gateway uses`,
    );
    return EXIT.failure;
  }
  if (!res.ok) {
    io.err(
      `the gateway at ${url} answered ${res.status} to /api/v1/stats; is it an up-to-date isartor?`,
    );
    await res.body?.cancel();
    return EXIT.failure;
  }
  const report = await res.json() as StatsReport;
  if (values.json) {
    io.out(JSON.stringify(report, null, 2));
    return EXIT.ok;
  }
  const lines = values["by-tool"]
    ? [style(io, `isartor stats by client tool · ${url}`, "bold"), "", ...byToolTable(report)]
    : summary(io, report, url, last);
  for (const line of lines) io.out(line);
  return EXIT.ok;
}

/** The request log's lines, the rotated file first; unreadable lines are skipped. */
function* requestLogLines(path: string): Generator<RequestLogLine> {
  for (const file of [`${path}.1`, path]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    for (const raw of text.split("\n")) {
      if (!raw) continue;
      try {
        yield JSON.parse(raw) as RequestLogLine;
      } catch { /* a torn last line */ }
    }
  }
}

/** The readable usage table. */
export function usageTable(io: CliIO, r: UsageReport): string[] {
  const lines = [
    style(io, `isartor usage · last ${r.window} (since ${r.since.slice(0, 16)})`, "bold"),
  ];
  if (r.log_starts && r.log_starts > r.since) {
    lines.push(
      `  the request log starts at ${r.log_starts.slice(0, 16)}: earlier usage is not counted`,
    );
  }
  const head = ["PROVIDER", "MODEL", "REQUESTS", "LOCAL", "TOKENS IN", "TOKENS OUT", "EST. COST"];
  const rows = r.rows.map((u) => [
    u.provider,
    u.model || "-",
    num(u.requests),
    num(u.answered_locally),
    num(u.input_tokens),
    num(u.output_tokens),
    u.cost_usd === null ? "no price" : usd(u.cost_usd),
  ]);
  if (!rows.length) return [...lines, "", "  no requests in this window"];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const fmt = (row: string[]) =>
    row.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const t = r.totals;
  return [
    ...lines,
    "",
    ...all.map((row) => `  ${fmt(row)}`),
    "",
    `  total: ${num(t.requests)} provider calls, ${num(t.input_tokens)} in / ${
      num(t.output_tokens)
    } out, ${usd(t.cost_usd)} (estimated; set provider_prices for your own prices)`,
  ];
}

function usageCommand(io: CliIO, config: Config, window: string, json: boolean): number {
  const ms = windowMs(window);
  if (ms === null) throw new UsageError(`--window must look like 24h, 7d or 30d, got "${window}"`);
  const report = usageReport(
    requestLogLines(gatewayFiles(config.data_dir).requests),
    window,
    Date.now() - ms,
    resolvePrices(config.provider_prices),
  );
  if (json) io.out(JSON.stringify(report, null, 2));
  else for (const line of usageTable(io, report)) io.out(line);
  return EXIT.ok;
}
