/**
 * `isartor bench deflection`: replays a workload of `{"prompt"}` rows through
 * the real gateway (its own process, a throw-away data directory, the caches
 * in memory) against the simulated provider of `isartor demo`, and reports
 * what each layer answered, the deflection rate and p50/p99 latency.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createGateway } from "../src/app.ts";
import { loadEmbedder } from "../src/embed/build.ts";
import { modelEnv } from "./up.ts";
import { serveGateway } from "../src/server.ts";
import { loadCliConfig } from "./config.ts";
import { simulatedConfig } from "./demo.ts";
import { startSimulatedUpstream } from "./demo_upstream.ts";
import { type CliIO, EXIT, style, UsageError } from "./io.ts";
import { startSpinner } from "./spinner.ts";

/** Help for `isartor bench deflection`. */
export const usage =
  `isartor bench deflection --workload FILE [--passes N] [--sim-latency MS] [--json]

Replays every {"prompt": "..."} row of FILE (JSON lines; other fields are
ignored) as a single-turn OpenAI chat request, in order, through the real
gateway pipeline, against the built-in simulated provider (no key, no network;
the answers are canned). Uses your cache and embedder settings, with the caches
in memory in a throw-away data directory. Prints, per layer, the requests it
answered, their share and p50/p99 latency, and the deflection rate (requests no
provider call was made for), in total and per pass.

Options:
  --workload FILE    the prompts (required)
  --passes N         replay the workload N times (default 1); later passes show a warm cache
  --sim-latency MS   delay of each simulated provider call (default 0)
  --json             machine-readable results

Examples:
  isartor bench deflection --workload ../shared/workloads/isartor/faq_loop.jsonl
  isartor bench deflection --workload ../shared/workloads/isartor/claude_code_todo_app.jsonl --passes 2`;

const LAYERS = ["l1a", "l1b", "l2", "l3"];
const LABELS: Record<string, string> = {
  l1a: "L1a exact cache",
  l1b: "L1b semantic cache",
  l2: "L2 router",
  l3: "L3 cloud (simulated)",
};

/** One layer's figures. */
export interface LayerFigures {
  answered: number;
  share: number;
  p50_ms: number | null;
  p99_ms: number | null;
}

/** The percentile `p` (0–100) of sorted values, nearest rank. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Reads the prompts of a workload file. */
export function parseWorkload(text: string): string[] {
  const prompts: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new Error(`line ${i + 1} is not JSON`);
    }
    const prompt = (row as { prompt?: unknown })?.prompt;
    if (typeof prompt !== "string" || !prompt.trim()) {
      throw new Error(`line ${i + 1} has no "prompt" string`);
    }
    prompts.push(prompt);
  });
  return prompts;
}

interface Sample {
  pass: number;
  layer: string;
  status: number;
  ms: number;
}

function figures(samples: Sample[], total: number): Record<string, LayerFigures> {
  const keys = [
    ...LAYERS,
    ...new Set(samples.map((s) => s.layer).filter((l) => !LAYERS.includes(l))),
  ];
  const out: Record<string, LayerFigures> = {};
  for (const layer of keys) {
    const ms = samples.filter((s) => s.layer === layer).map((s) => s.ms).sort((a, b) => a - b);
    const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
    out[layer] = {
      answered: ms.length,
      share: total ? ms.length / total : 0,
      p50_ms: round(percentile(ms, 50)),
      p99_ms: round(percentile(ms, 99)),
    };
  }
  return out;
}

const deflectedShare = (samples: Sample[]) =>
  samples.length === 0
    ? 0
    : samples.filter((s) => s.layer !== "l3" && s.layer !== "error" && s.status < 400).length /
      samples.length;

/** Runs `isartor bench deflection`. */
export async function runBenchDeflection(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      workload: { type: "string" },
      passes: { type: "string" },
      "sim-latency": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    io.out(usage);
    return EXIT.ok;
  }
  if (!values.workload) throw new UsageError("--workload FILE is required");
  const passes = values.passes === undefined ? 1 : Number(values.passes);
  if (!Number.isInteger(passes) || passes < 1 || passes > 100) {
    throw new UsageError(`--passes must be a whole number from 1 to 100, got "${values.passes}"`);
  }
  const latencyMs = values["sim-latency"] === undefined ? 0 : Number(values["sim-latency"]);
  if (!Number.isFinite(latencyMs) || latencyMs < 0 || latencyMs > 60_000) {
    throw new UsageError(`--sim-latency must be milliseconds from 0 to 60000`);
  }
  let text: string;
  try {
    text = await Deno.readTextFile(values.workload);
  } catch (e) {
    throw new Error(`cannot read ${values.workload}: ${(e as Error).message}`);
  }
  const prompts = parseWorkload(text);
  if (prompts.length === 0) throw new Error(`${values.workload} has no prompts`);

  const { config: base } = loadCliConfig({}, { warn: io.err });
  const tmp = await Deno.makeTempDir({ prefix: "isartor-bench-" });
  const sim = await startSimulatedUpstream({ latencyMs });
  const samples: Sample[] = [];
  let health: Record<string, unknown> = {};
  let spinner = null;
  try {
    const config = simulatedConfig(base, sim.url, tmp, {
      cache_backend: "memory",
      log_requests: false,
    });
    const loaded = await loadEmbedder(config, { env: modelEnv(), download: false });
    if (loaded.notice && !values.json) io.err(`isartor bench deflection: note: ${loaded.notice}`);
    const gateway = createGateway(config, { embedder: loaded.embedder });
    const server = await serveGateway(gateway);
    const total = prompts.length * passes;
    spinner = values.json ? null : startSpinner(io, `replaying ${total} requests...`);
    try {
      health = await (await fetch(`${server.url}/health`)).json();
      for (let pass = 1; pass <= passes; pass++) {
        for (const [i, prompt] of prompts.entries()) {
          if (i % 50 === 0) spinner?.update(`pass ${pass}/${passes}: ${i}/${prompts.length}`);
          const started = performance.now();
          const res = await fetch(`${server.url}/v1/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json", "user-agent": "isartor-bench" },
            body: JSON.stringify({
              model: "bench-model",
              temperature: 0,
              messages: [{ role: "user", content: prompt }],
            }),
          });
          await res.arrayBuffer();
          const ms = performance.now() - started;
          samples.push({
            pass,
            layer: res.headers.get("x-isartor-layer") ?? "error",
            status: res.status,
            ms,
          });
        }
      }
    } finally {
      spinner?.stop();
      await server.shutdown();
    }
  } finally {
    await sim.close();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }

  const layers = figures(samples, samples.length);
  const perPass = Array.from({ length: passes }, (_, i) => {
    const s = samples.filter((x) => x.pass === i + 1);
    return {
      pass: i + 1,
      requests: s.length,
      deflection_rate: deflectedShare(s),
      layers: figures(s, s.length),
    };
  });
  const embedder = health.embedder as Record<string, unknown> | null | undefined;
  const report = {
    workload: values.workload,
    prompts: prompts.length,
    passes,
    requests: samples.length,
    cache_mode: base.cache_mode,
    embedder: embedder ?? null,
    upstream: `simulated provider, ${latencyMs} ms per call`,
    provider_calls: sim.calls,
    errors: samples.filter((s) => s.status >= 400 || s.layer === "error").length,
    deflection_rate: deflectedShare(samples),
    layers,
    per_pass: perPass,
  };
  if (values.json) {
    io.out(JSON.stringify(report, null, 2));
    return EXIT.ok;
  }
  const pct = (r: number) => `${(r * 100).toFixed(1)}%`;
  const ms = (v: number | null) => (v === null ? "-" : `${v.toFixed(1)}ms`);
  io.out(
    style(
      io,
      `isartor bench deflection: ${values.workload}, ${prompts.length} prompts × ${passes} pass${
        passes > 1 ? "es" : ""
      } = ${samples.length} requests`,
      "bold",
    ),
  );
  io.out(
    `  cache_mode ${base.cache_mode}${
      embedder
        ? `, embedder ${embedder.backend} (${embedder.model}), similarity_threshold ${embedder.similarity_threshold}`
        : ""
    }; ${report.upstream}`,
  );
  io.out(
    `  ${"LAYER".padEnd(22)} ${"ANSWERED".padStart(8)} ${"SHARE".padStart(7)} ${
      "P50".padStart(9)
    } ${"P99".padStart(9)}`,
  );
  for (const [layer, f] of Object.entries(layers)) {
    io.out(
      `  ${(LABELS[layer] ?? layer).padEnd(22)} ${String(f.answered).padStart(8)} ${
        pct(f.share).padStart(7)
      } ${ms(f.p50_ms).padStart(9)} ${ms(f.p99_ms).padStart(9)}`,
    );
  }
  const passText = passes > 1
    ? ` (${perPass.map((p) => `pass ${p.pass}: ${pct(p.deflection_rate)}`).join(", ")})`
    : "";
  io.out(`  deflection ${pct(report.deflection_rate)}${passText}; ${sim.calls} provider calls`);
  if (report.errors) io.out(style(io, `  ${report.errors} requests failed`, "red"));
  return report.errors ? EXIT.failure : EXIT.ok;
}
