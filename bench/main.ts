/**
 * The benchmark runner behind `deno task bench`.
 *
 * Runs the scenario modules listed in {@linkcode SCENARIOS} (one file each under
 * `bench/scenarios/`), prints a readable report on stdout (progress goes to stderr) and writes
 * the figures as JSON to `bench/results/latest.json` plus a timestamped copy.
 *
 * ```sh
 * deno task bench                      # every scenario, full length (about 1.5 min on 2 cores)
 * deno task bench -- --only overhead   # some scenarios (repeat or comma-separate)
 * deno task bench -- --quick           # short smoke run; writes latest-quick.json
 * deno task bench -- --generator deno  # force the built-in fetch load generator
 * deno task bench -- --strict          # exit 1 when a target is missed
 * ```
 *
 * `wrk` is used as the load generator when installed (`apt-get install wrk`), else a built-in
 * fetch-based one. Servers (mock upstream, gateway) each run in their own subprocess.
 * `cluster_cache` starts its own redis-server on a free loopback port and is skipped, with a
 * note, when redis-server is not installed (`apt-get install redis-server`).
 *
 * @module
 */

import { flag, parseFlags } from "./args.ts";
import { fileTimestamp, formatTable, formatTargets } from "./format.ts";
import { fetchLoadGenerator } from "./load.ts";
import * as agentSession from "./scenarios/agent_session.ts";
import * as cacheKey from "./scenarios/cache_key.ts";
import * as clusterCache from "./scenarios/cluster_cache.ts";
import * as contextOptimiser from "./scenarios/context_optimiser.ts";
import * as exactCache from "./scenarios/exact_cache.ts";
import * as overhead from "./scenarios/overhead.ts";
import * as semanticSearch from "./scenarios/semantic_search.ts";
import * as embedding from "./scenarios/embedding.ts";
import * as benignCheck from "./scenarios/benign_check.ts";
import * as l2Router from "./scenarios/l2_router.ts";
import { stopAllServers } from "./servers/spawn.ts";
import type { LoadGenerator, ScenarioContext, ScenarioModule, TargetCheck } from "./types.ts";
import { detectWrk, wrkLoadGenerator } from "./wrk.ts";

/** Every scenario, in run order. Add new ones here. */
export const SCENARIOS: readonly ScenarioModule[] = [
  overhead,
  exactCache,
  clusterCache,
  cacheKey,
  contextOptimiser,
  agentSession,
  semanticSearch,
  embedding,
  benignCheck,
  l2Router,
];

/** Version of the results file layout. */
export const RESULTS_SCHEMA_VERSION = 1;

const USAGE = `usage: deno task bench [-- options]

  --only <names>        run only these scenarios (comma-separated or repeated): ${
  SCENARIOS.map((s) => s.name).join(", ")
}
  --quick               short smoke run (results go to bench/results/latest-quick.json)
  --generator <name>    wrk | deno (default: wrk when installed, else deno)
  --strict              exit with status 1 when a target is missed
  --list                list the scenarios and exit
  --help                show this help
`;

/** Machine facts recorded with the results. */
export interface MachineInfo {
  cpus: number;
  cpu_model: string | null;
  os: string;
  os_release: string | null;
  arch: string;
  memory_gib: number | null;
  loadavg_at_start: number[] | null;
  deno: string;
  v8: string;
  typescript: string;
}

function loadavg(): number[] | null {
  try {
    return Deno.loadavg().map((v) => Math.round(v * 100) / 100);
  } catch {
    return null;
  }
}

async function machineInfo(): Promise<MachineInfo> {
  let cpuModel: string | null = null;
  try {
    // Through `cat`: Deno refuses most /proc paths to anything short of --allow-all.
    const out = await new Deno.Command("cat", {
      args: ["/proc/cpuinfo"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    cpuModel = text.match(/^model name\s*:\s*(.+)$/m)?.[1].trim() ?? null;
  } catch {
    // not Linux
  }
  const safe = <T>(f: () => T): T | null => {
    try {
      return f();
    } catch {
      return null;
    }
  };
  const mem = safe(() => Deno.systemMemoryInfo().total);
  return {
    cpus: navigator.hardwareConcurrency,
    cpu_model: cpuModel,
    os: Deno.build.os,
    os_release: safe(() => Deno.osRelease()),
    arch: Deno.build.arch,
    memory_gib: mem === null ? null : Math.round(mem / 2 ** 30 * 10) / 10,
    loadavg_at_start: loadavg(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
  };
}

/**
 * The scenarios that `--only` names (all when empty), or an error naming the unknown ones.
 *
 * @example
 * ```ts
 * selectScenarios(SCENARIOS, ["overhead"]).map((s) => s.name); // ["overhead"]
 * ```
 */
export function selectScenarios(
  all: readonly ScenarioModule[],
  only: readonly string[],
): ScenarioModule[] {
  const names = only.flatMap((o) => o.split(",")).map((n) => n.trim()).filter(Boolean);
  if (names.length === 0) return [...all];
  const unknown = names.filter((n) => !all.some((s) => s.name === n));
  if (unknown.length > 0) {
    throw new Error(
      `unknown scenario(s): ${unknown.join(", ")}; known: ${all.map((s) => s.name).join(", ")}`,
    );
  }
  return all.filter((s) => names.includes(s.name));
}

/** The code measured: git commit and how many files differ from it (read-only git calls). */
export interface SourceInfo {
  commit: string | null;
  /** Files changed or untracked in the working tree (the run measured uncommitted code). */
  dirty_files: number | null;
}

async function sourceInfo(repoRoot: string): Promise<SourceInfo> {
  const git = async (...args: string[]): Promise<string | null> => {
    try {
      const out = await new Deno.Command("git", {
        args: ["-C", repoRoot, ...args],
        stdout: "piped",
        stderr: "null",
      }).output();
      return out.success ? new TextDecoder().decode(out.stdout) : null;
    } catch {
      return null;
    }
  };
  const commit = (await git("rev-parse", "HEAD"))?.trim() || null;
  const status = await git("status", "--porcelain");
  return {
    commit,
    dirty_files: status === null ? null : status.split("\n").filter(Boolean).length,
  };
}

async function chooseGenerator(wanted: string, scratchDir: string): Promise<LoadGenerator> {
  if (wanted === "deno") return fetchLoadGenerator;
  const version = await detectWrk();
  if (version) return wrkLoadGenerator(version, scratchDir);
  if (wanted === "wrk") {
    throw new Error("--generator wrk: wrk is not installed (apt-get install wrk)");
  }
  return fetchLoadGenerator;
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as Record<string, unknown>;
  } catch {
    return null;
  }
}

async function main(args: string[]): Promise<number> {
  const flags = parseFlags(args, ["quick", "strict", "list", "help"]);
  if (flags.has("help")) {
    console.log(USAGE);
    return 0;
  }
  if (flags.has("list")) {
    for (const s of SCENARIOS) console.log(`${s.name.padEnd(12)} ${s.description}`);
    return 0;
  }
  const quick = flags.has("quick");
  const only = flags.get("only") ?? [];
  const scenarios = selectScenarios(SCENARIOS, only);
  const repoRoot = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
  const resultsDir = `${repoRoot}/bench/results`;
  const scratchDir = await Deno.makeTempDir({ prefix: "isartor-bench-" });
  const log = (line: string) => console.error(line);

  const cleanup = async () => {
    await stopAllServers();
    await Deno.remove(scratchDir, { recursive: true }).catch(() => {});
  };
  const onSignal = () => {
    log("interrupted: stopping servers");
    cleanup().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  try {
    const load = await chooseGenerator(flag(flags, "generator"), scratchDir);
    const machine = await machineInfo();
    const source = await sourceInfo(repoRoot);
    const startedAt = new Date();
    const ctx: ScenarioContext = { repoRoot, scratchDir, quick, load, log };

    const busy = machine.loadavg_at_start?.[0] ?? 0;
    if (busy > 0.5) {
      log(
        `note: load average ${busy.toFixed(2)} at start: other work is running here, so figures ` +
          "will be noisier (rounds are interleaved and paired to limit the effect)",
      );
    }
    console.log(
      `isartor bench${quick ? " (quick)" : ""}: ${machine.cpus} CPUs${
        machine.cpu_model ? ` (${machine.cpu_model})` : ""
      }, Deno ${machine.deno}, load generator ${load.name} (${load.version})`,
    );

    const results: Record<string, unknown> = {};
    const allTargets: TargetCheck[] = [];
    for (const scenario of scenarios) {
      log(`\n[${scenario.name}] ${scenario.description}`);
      const t0 = performance.now();
      const r = await scenario.run(ctx);
      const seconds = (performance.now() - t0) / 1000;
      results[scenario.name] = {
        ...r.data,
        targets: r.targets,
        timestamp: new Date().toISOString(),
        elapsed_s: Math.round(seconds * 10) / 10,
      };
      allTargets.push(...Object.values(r.targets));

      console.log(`\n== ${scenario.name}: ${scenario.description} (${seconds.toFixed(0)} s)\n`);
      for (const table of r.tables) console.log(`${formatTable(table)}\n`);
      for (const note of r.notes) console.log(note);
      if (Object.keys(r.targets).length > 0) {
        console.log(`\nTargets:\n${formatTargets(r.targets)}`);
      }
    }

    const met = allTargets.filter((t) => t.pass).length;
    const latestPath = `${resultsDir}/${quick ? "latest-quick" : "latest"}.json`;
    // A partial run (--only) keeps the other scenarios' latest figures.
    const previous = only.length > 0 ? await readJson(latestPath) : null;
    const previousScenarios = (previous?.scenarios ?? {}) as Record<string, unknown>;
    const scenariosOut = { ...previousScenarios, ...results };
    const allStoredTargets = Object.values(scenariosOut).flatMap((s) =>
      Object.values((s as { targets?: Record<string, TargetCheck> }).targets ?? {})
    );
    const doc = {
      schema_version: RESULTS_SCHEMA_VERSION,
      timestamp: startedAt.toISOString(),
      quick,
      scenarios_run: scenarios.map((s) => s.name),
      machine: { ...machine, loadavg_at_end: loadavg() },
      source,
      load_generator: { name: load.name, version: load.version },
      targets_met: allStoredTargets.every((t) => t.pass),
      scenarios: scenariosOut,
    };
    await Deno.mkdir(resultsDir, { recursive: true });
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    const stampedPath = `${resultsDir}/${quick ? "quick-" : ""}${fileTimestamp(startedAt)}.json`;
    await Deno.writeTextFile(
      stampedPath,
      `${JSON.stringify({ ...doc, scenarios: results }, null, 2)}\n`,
    );
    await Deno.writeTextFile(latestPath, text);

    console.log(
      `\n${met}/${allTargets.length} targets met. Results: ${
        latestPath.slice(repoRoot.length + 1)
      }, ${stampedPath.slice(repoRoot.length + 1)}`,
    );
    return flags.has("strict") && met < allTargets.length ? 1 : 0;
  } finally {
    await cleanup();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(1);
  }
}
