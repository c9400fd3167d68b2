/**
 * `isartor bench`: measurements users and the benchmarks run with the real
 * modules.
 *
 * - `isartor bench semantic`: the semantic cache's hit rate, false-hit rate
 *   and precision on labelled question pairs, with its threshold curve.
 * - `isartor bench deflection`: a workload of prompts through the real
 *   pipeline against a simulated provider: what each layer answered, how fast.
 *
 * @module
 */

import { type CliIO, EXIT, UsageError } from "./io.ts";
import { runBenchDeflection } from "./bench_deflection.ts";
import { runBenchSemantic } from "./bench_semantic.ts";

/** Help for `isartor bench`. */
export const usage = `isartor bench <semantic|deflection> [options]

Measures the caches with the real modules, offline.

  isartor bench semantic --pairs FILE.jsonl [--embedder minilm|remote|none] [--threshold T] [--json]
      Stores each pair's "a", looks up its "b": hit rate on duplicates,
      false-hit rate on non-duplicates, precision, and the threshold curve.

  isartor bench deflection --workload FILE.jsonl [--passes N] [--sim-latency MS] [--json]
      Replays {"prompt"} rows through the real pipeline against a simulated
      provider: requests answered per layer, deflection rate, p50/p99 latency.

Run \`isartor bench semantic --help\` or \`isartor bench deflection --help\` for details.`;

/** Runs `isartor bench`. */
export function runBench(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "-h" || sub === "--help" || sub === "help") {
    io.out(usage);
    return Promise.resolve(EXIT.ok);
  }
  if (sub === "semantic") return runBenchSemantic(rest, io);
  if (sub === "deflection") return runBenchDeflection(rest, io);
  throw new UsageError(`unknown benchmark "${sub}"; use "semantic" or "deflection"`);
}
