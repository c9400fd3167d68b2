/**
 * The shapes shared by the benchmark runner, its load generators and its scenarios.
 *
 * @module
 */

/** Latency and throughput of one load run (or the median of several). */
export interface LoadStats {
  /** Completed requests (successful or not). */
  requests: number;
  /** Failed requests: connection errors, timeouts and non-2xx statuses. */
  errors: number;
  /** Measured wall time in seconds. */
  duration_s: number;
  /** Completed requests per second. */
  rps: number;
  /** Latency percentiles and mean, in milliseconds. */
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  mean_ms: number;
  max_ms: number;
}

/** One HTTP load run: who to hit, with what, how hard and for how long. */
export interface LoadOptions {
  /** Full URL, e.g. `http://127.0.0.1:8080/v1/chat/completions`. */
  url: string;
  /** Request body (sent with `POST`). */
  body: string;
  /** Request headers (`content-type` included). */
  headers: Record<string, string>;
  /** Number of concurrent keep-alive connections. */
  concurrency: number;
  /** Measured duration in whole seconds (at least 1). */
  durationS: number;
}

/** Something that can put HTTP load on a URL and report {@linkcode LoadStats}. */
export interface LoadGenerator {
  /** `wrk` or `deno-fetch`. */
  readonly name: string;
  /** Human-readable version or description, recorded in the results. */
  readonly version: string;
  /** Runs one load measurement. */
  run(opts: LoadOptions): Promise<LoadStats>;
}

/** A comparison operator of a target. */
export type TargetOp = "<" | "<=" | ">" | ">=";

/** One performance target and whether the run met it. */
export interface TargetCheck {
  /** What is measured, e.g. `p50 overhead at c=1`. */
  description: string;
  /** The measured value. */
  value: number;
  /** Unit of `value` and `threshold`, e.g. `ms` or `ratio`. */
  unit: string;
  /** `value <op> threshold` must hold. */
  op: TargetOp;
  threshold: number;
  pass: boolean;
}

/** A plain table for the console report. */
export interface Table {
  title: string;
  columns: string[];
  rows: string[][];
}

/** What a scenario hands back to the runner. */
export interface ScenarioResult {
  /** JSON-ready figures, stored under `scenarios.<name>` in the results file. */
  data: object;
  /** Targets by id, e.g. `p50_overhead_c1`. Also stored in the results file. */
  targets: Record<string, TargetCheck>;
  /** Tables for the console. */
  tables: Table[];
  /** Free-form lines printed after the tables (reference figures, caveats). */
  notes: string[];
}

/** What the runner gives every scenario. */
export interface ScenarioContext {
  /** Absolute path of the repository root (holds `deno.json`). */
  repoRoot: string;
  /** A scratch directory for this run, removed at the end. */
  scratchDir: string;
  /** Short smoke run: fewer rounds, shorter measurements. */
  quick: boolean;
  /** The load generator chosen for this run. */
  load: LoadGenerator;
  /** Progress output (stderr), so stdout stays the report. */
  log(line: string): void;
}

/** A benchmark scenario module: `bench/scenarios/<name>.ts` exports these three. */
export interface ScenarioModule {
  /** Id used by `--only`, and the key in the results file. */
  readonly name: string;
  /** One line saying what is measured. */
  readonly description: string;
  /** Runs the scenario. Must stop every process it started, even on error. */
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}
