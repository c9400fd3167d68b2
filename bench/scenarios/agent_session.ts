/**
 * Scenario `agent_session`: the seed's "warm agent session". Replaying a recorded coding-agent
 * session a second time must deflect every prompt at L1a.
 *
 * The workload is `../shared/workloads/isartor/claude_code_todo_app.jsonl` (next to the
 * repository): one JSON object per line with a `prompt` (plus `phase`, `step` and
 * `expected_classification`, which this scenario does not use). Each prompt is self-contained
 * (it names the file and the app it is about), so each row is sent as its own OpenAI chat
 * request, `{model, messages: [{role: "user", content: prompt}]}`, sequentially, through a
 * gateway with the exact cache (default `kv` backend) in front of the mock upstream: pass 1,
 * then the same rows again as pass 2. The answering layer (`x-isartor-layer`) is counted per
 * pass. Some prompts repeat within the file, so pass 1 already has a few hits.
 *
 * Target: pass 2 deflects 100% at L1a. Also reported: pass-2 latency against pass 1.
 * When the workload file is missing, the scenario is skipped with a note (not a failure).
 *
 * @module
 */

import { fmt } from "../format.ts";
import { startGatewayServer, startMockServer } from "../servers/launch.ts";
import type { ServerProcess } from "../servers/spawn.ts";
import { checkTarget, round, type SampleSummary, summarize } from "../stats.ts";
import type { ScenarioContext, ScenarioResult, Table, TargetCheck } from "../types.ts";

/** Scenario id. */
export const name = "agent_session";

/** What the scenario measures. */
export const description =
  "warm agent session: replaying claude_code_todo_app.jsonl a second time, deflected at L1a";

/** The workload, resolved from this file (bench/scenarios/ → the repository's parent). */
export const WORKLOAD_URL = new URL(
  "../../../shared/workloads/isartor/claude_code_todo_app.jsonl",
  import.meta.url,
);

const PATH = "/v1/chat/completions";
const MODEL = "gpt-4o";

const HEADERS: Record<string, string> = {
  "content-type": "application/json",
  "authorization": "Bearer sk-bench-client",
  "user-agent": "isartor-bench",
};

/** The gateway's config: L1a (default kv backend) in front of L3. */
export const GATEWAY_CONFIG: Record<string, unknown> = {
  cache_mode: "exact",
  cache_backend: "kv",
};

/** One row of the workload. */
export interface WorkloadRow {
  prompt: string;
  phase?: string;
  step?: number;
  expected_classification?: string;
}

/**
 * Parses the workload's JSON lines (blank lines skipped); every row must have a string `prompt`.
 *
 * @example
 * ```ts
 * parseWorkload('{"prompt": "a"}\n\n{"prompt": "b", "step": 2}\n').length; // 2
 * ```
 */
export function parseWorkload(text: string): WorkloadRow[] {
  const rows: WorkloadRow[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    const v = JSON.parse(line) as Partial<WorkloadRow>;
    if (typeof v.prompt !== "string") throw new Error(`workload line ${i + 1}: no "prompt"`);
    rows.push(v as WorkloadRow);
  });
  return rows;
}

/** What one pass saw. */
interface PassResult {
  /** Requests per answering layer (`x-isartor-layer`). */
  layers: Record<string, number>;
  /** Requests whose status was not 200. */
  errors: number;
  /** Per-request latency in ms, in row order (request sent to body read). */
  latencies: number[];
  /** Latency of the requests answered at L1a only. */
  hitLatencies: number[];
}

async function replay(url: string, bodies: readonly string[]): Promise<PassResult> {
  const layers: Record<string, number> = {};
  const latencies: number[] = [];
  const hitLatencies: number[] = [];
  let errors = 0;
  for (const body of bodies) {
    const t0 = performance.now();
    const res = await fetch(url, { method: "POST", headers: HEADERS, body });
    await res.arrayBuffer();
    const ms = performance.now() - t0;
    latencies.push(ms);
    if (res.status !== 200) errors++;
    const layer = res.headers.get("x-isartor-layer") ?? "none";
    layers[layer] = (layers[layer] ?? 0) + 1;
    if (layer === "l1a") hitLatencies.push(ms);
  }
  return { layers, errors, latencies, hitLatencies };
}

function roundSummary(s: SampleSummary): SampleSummary {
  return Object.fromEntries(
    Object.entries(s).map(([k, v]) => [k, k === "count" ? v : round(v)]),
  ) as unknown as SampleSummary;
}

/** Runs the scenario. */
export async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const workloadPath = decodeURIComponent(WORKLOAD_URL.pathname);
  let text: string;
  try {
    text = await Deno.readTextFile(workloadPath);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    const note = `SKIPPED: workload ${workloadPath} not found (it lives next to the repository, ` +
      "in ../shared/workloads/isartor/); nothing was measured";
    ctx.log(`  ${note}`);
    return {
      data: { description, skipped: true, reason: note, workload: workloadPath },
      targets: {},
      tables: [],
      notes: [note],
    };
  }
  const rows = parseWorkload(text);
  const bodies = rows.map((r) =>
    JSON.stringify({ model: MODEL, messages: [{ role: "user", content: r.prompt }] })
  );
  const distinct = new Set(bodies).size;

  const started: ServerProcess[] = [];
  try {
    ctx.log("  starting mock upstream and gateway (one process each)");
    const mock = await startMockServer(ctx);
    started.push(mock);
    const gateway = await startGatewayServer(ctx, mock.url, GATEWAY_CONFIG);
    started.push(gateway);
    // Open the keep-alive connection before timing anything.
    await (await fetch(`${gateway.url}/healthz`)).arrayBuffer();

    const url = `${gateway.url}${PATH}`;
    ctx.log(`  pass 1: ${rows.length} prompts (${distinct} distinct)`);
    const pass1 = await replay(url, bodies);
    ctx.log(`    layers ${JSON.stringify(pass1.layers)}`);
    ctx.log(`  pass 2: the same ${rows.length} prompts`);
    const pass2 = await replay(url, bodies);
    ctx.log(`    layers ${JSON.stringify(pass2.layers)}`);

    const deflection = (p: PassResult) => (p.layers.l1a ?? 0) / rows.length;
    const pass1Stats = summarize(pass1.latencies);
    const pass2Stats = summarize(pass2.latencies);
    const pass1Misses = summarize(
      pass1.latencies.filter((_, i) => bodies.indexOf(bodies[i]) === i),
    );
    const targets: Record<string, TargetCheck> = {
      pass2_l1a_deflection: checkTarget(
        "pass 2 prompts answered at L1a",
        round(deflection(pass2) * 100, 1),
        "%",
        ">=",
        100,
      ),
    };

    const data = {
      description,
      workload: {
        path: "../shared/workloads/isartor/claude_code_todo_app.jsonl",
        rows: rows.length,
        distinct_prompts: distinct,
        request_shape: `{model: "${MODEL}", messages: [{role: "user", content: prompt}]}`,
      },
      settings: {
        path: PATH,
        gateway_config: GATEWAY_CONFIG,
        upstream: "tests/support/mock_upstream.ts (record: false), own process",
        client: "sequential fetch from the bench process, keep-alive",
      },
      pass1: {
        layers: pass1.layers,
        errors: pass1.errors,
        l1a_deflection_pct: round(deflection(pass1) * 100, 1),
        latency: roundSummary(pass1Stats),
        first_sight_latency: roundSummary(pass1Misses),
      },
      pass2: {
        layers: pass2.layers,
        errors: pass2.errors,
        l1a_deflection_pct: round(deflection(pass2) * 100, 1),
        latency: roundSummary(pass2Stats),
      },
      pass2_over_pass1_p50: round(pass2Stats.p50_ms / pass1Stats.p50_ms),
    };

    const layerNames = [...new Set([...Object.keys(pass1.layers), ...Object.keys(pass2.layers)])]
      .sort();
    const table: Table = {
      title: `Replaying ${rows.length} prompts (${distinct} distinct) twice, sequentially`,
      columns: [
        "pass",
        ...layerNames.map((l) => `${l} answers`),
        "L1a %",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "mean ms",
        "errors",
      ],
      rows: [[1, pass1, pass1Stats] as const, [2, pass2, pass2Stats] as const].map((
        [n, p, st],
      ) => [
        String(n),
        ...layerNames.map((l) => String(p.layers[l] ?? 0)),
        fmt(deflection(p) * 100, 1),
        fmt(st.p50_ms),
        fmt(st.p90_ms),
        fmt(st.p99_ms),
        fmt(st.mean_ms),
        String(p.errors),
      ]),
    };
    const notes = [
      `pass 2: ${pass2.layers.l1a ?? 0}/${rows.length} at L1a; p50 ${fmt(pass2Stats.p50_ms)} ms ` +
      `vs pass 1 p50 ${fmt(pass1Stats.p50_ms)} ms (${
        fmt(pass2Stats.p50_ms / pass1Stats.p50_ms, 2)
      }x; first sight of each prompt in pass 1: p50 ${fmt(pass1Misses.p50_ms)} ms)`,
      "latency is client-side (a Deno fetch in the bench process) over loopback against the " +
      "mock upstream, so pass 1 is a floor for a real provider, not an estimate of one",
      ...(pass1.errors + pass2.errors > 0
        ? [`WARNING ${pass1.errors + pass2.errors} requests did not answer 200`]
        : []),
    ];
    return { data, targets, tables: [table], notes };
  } finally {
    await Promise.all(started.map((p) => p.stop()));
  }
}
