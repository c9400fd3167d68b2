/**
 * The scenario every real agent CLI goes through (tests/e2e/agents/): a first run answers, a
 * shell tool loop completes, and a second identical run is answered from L1a, except where the
 * client changes its own prompt, which the caller states with a pattern the test checks. Every
 * request must carry the client's own label in the gateway's stats, and the egress proxy may
 * only have refused hosts the caller documents.
 *
 * @module
 */

import {
  type AgentRig,
  type AgentRun,
  assertAllFromL1a,
  assertRun,
  describeRun,
} from "./agent_harness.ts";
import { AFTER_TOOL_PREFIX, TOOL_LOOP_TRIGGER } from "./agent_script.ts";
import { DEFAULT_ANSWER_TEXT } from "./mock_upstream.ts";

/** A run of the CLI plus the answer text it printed. */
export type AgentAnswer = AgentRun & { result: string };

/** How the second, identical tool-loop run is answered. */
export type Rerun =
  /** Every request from L1a. */
  | { kind: "l1a" }
  /**
   * The first request from L1a; the one carrying the tool's output misses, because the client
   * puts per-run values into that output (each pattern's first group). The two runs' tool
   * outputs must differ in the first pattern and nowhere outside the patterns. A re-run of the
   * first prompt is then all L1a.
   */
  | { kind: "tool_output_varies"; patterns: RegExp[]; why: string }
  /**
   * Nothing from the cache: the client writes per-run values into its prompt (each pattern's
   * first group); the two runs' first requests must differ there and nowhere else.
   */
  | { kind: "prompt_varies"; patterns: RegExp[]; why: string };

/** Options of {@linkcode agentScenario}. */
export interface ScenarioOptions {
  /** For the test log. */
  label: string;
  /** Runs the CLI once, non-interactively, with `prompt`. */
  ask(prompt: string): Promise<AgentAnswer>;
  /** The client label the gateway's stats must give every request (`/api/v1/stats`). */
  tool: string;
  /** Default `{ kind: "l1a" }`. */
  rerun?: Rerun;
  /** `host:port` targets the client may try on its own (each documented by the caller). */
  refusedAllowed?: string[];
}

/** What the scenario measured, for the log. */
export interface ScenarioResult {
  runs: AgentAnswer[];
}

/** The prompt that makes the mock ask for the shell. */
export function toolLoopPrompt(rig: AgentRig): string {
  return `${TOOL_LOOP_TRIGGER}: run \`${rig.loop.command}\` and tell me what it printed.`;
}

function capture(pattern: RegExp, text: string, what: string): string {
  const m = new RegExp(pattern.source, pattern.flags.replace("g", "")).exec(text);
  if (m === null || m[1] === undefined) throw new Error(`${what}: ${pattern} not found`);
  return m[1];
}

/**
 * Throws unless `a` and `b` differ in the first pattern's first group and are equal once every
 * pattern's first group is masked (the later patterns may or may not change between runs, and
 * may be absent from both). Patterns must not carry the `g` flag.
 */
export function assertDifferOnlyIn(a: string, b: string, patterns: RegExp[], what: string): void {
  let ma = a;
  let mb = b;
  for (const [i, p] of patterns.entries()) {
    // A later pattern may be absent from both (a field only one protocol has).
    if (i > 0 && !p.test(a) && !p.test(b)) continue;
    const ca = capture(p, a, `${what} (first run)`);
    const cb = capture(p, b, `${what} (second run)`);
    if (i === 0 && ca === cb) {
      throw new Error(`${what}: ${p} is ${ca} in both runs; expected it to change`);
    }
    const g = new RegExp(p.source, p.flags.includes("g") ? p.flags : p.flags + "g");
    const mask = (s: string) => s.replace(g, (m, c: string) => m.replace(c, "<varies>"));
    ma = mask(ma);
    mb = mask(mb);
  }
  if (ma !== mb) {
    let i = 0;
    while (i < ma.length && ma[i] === mb[i]) i++;
    const at = (s: string) => JSON.stringify(s.slice(Math.max(0, i - 120), i + 200));
    throw new Error(
      `${what}: the runs differ beyond ${patterns.join(", ")}, at ${i}:\n${at(ma)}\n${at(mb)}`,
    );
  }
}

function assertLabels(r: AgentRun, tool: string, what: string): void {
  const wrong = r.gateway.filter((g) => g.tool !== tool);
  assertRun(
    wrong.length === 0,
    r,
    `${what}: expected every request labelled ${JSON.stringify(tool)} in the stats, got ` +
      JSON.stringify([...new Set(wrong.map((g) => g.tool))]),
  );
}

function assertRefused(r: AgentRun, allowed: string[], what: string): void {
  const extra = r.refused.filter((h) => !allowed.includes(h));
  assertRun(extra.length === 0, r, `${what}: the egress proxy refused undocumented [${extra}]`);
}

/**
 * Runs the scenario; throws with the CLI's output on the first failed expectation.
 *
 * @example
 * ```ts
 * await agentScenario(rig, { label: "codex", tool: "Codex", ask: (p) => codex(rig, p) });
 * ```
 */
export async function agentScenario(
  rig: AgentRig,
  opts: ScenarioOptions,
): Promise<ScenarioResult> {
  const rerun = opts.rerun ?? { kind: "l1a" };
  const allowed = opts.refusedAllowed ?? [];
  const runs: AgentAnswer[] = [];
  const step = async (prompt: string, what: string): Promise<AgentAnswer> => {
    const r = await opts.ask(prompt);
    runs.push(r);
    console.log(describeRun(`${opts.label} ${what}`, r));
    assertRun(r.code === 0, r, `${what}: exit code`);
    assertLabels(r, opts.tool, what);
    assertRefused(r, allowed, what);
    return r;
  };

  const first = await step("Say hello.", "first run");
  assertRun(first.result.includes(DEFAULT_ANSWER_TEXT), first, "first run: the mock's answer");

  const prompt = toolLoopPrompt(rig);
  const stepsBefore = rig.loop.steps.length;
  const loop = await step(prompt, "tool loop");
  const expected = `${AFTER_TOOL_PREFIX} isartor-tool-ok`;
  assertRun(loop.result.includes(expected), loop, `tool loop: expected ${expected}`);
  const loopSteps = rig.loop.steps.slice(stepsBefore);
  assertRun(loopSteps.some((s) => s.step === "tool_call"), loop, "tool loop: a shell tool call");
  const loopOutput = loopSteps.find((s) => s.step === "after_tool")?.result ?? "";

  const againBefore = rig.loop.steps.length;
  const upstreamBefore = rig.mock.requests.length;
  const again = await step(prompt, "second run");
  assertRun(again.result.includes(expected), again, "second run: the same answer");
  if (rerun.kind === "l1a") {
    assertAllFromL1a(again, `${opts.label} second run`);
  } else if (rerun.kind === "tool_output_varies") {
    const layers = again.gateway.map((g) => g.layer);
    assertRun(
      layers[0] === "l1a" && layers.slice(1).every((l) => l !== "l1a") && again.upstream > 0,
      again,
      `second run: expected the first request from l1a and the tool result missed (${rerun.why})`,
    );
    const againOutput = rig.loop.steps.slice(againBefore).find((s) => s.step === "after_tool")
      ?.result ?? "";
    assertDifferOnlyIn(loopOutput, againOutput, rerun.patterns, `${opts.label} tool output`);
    const hello = await step("Say hello.", "first prompt again");
    assertAllFromL1a(hello, `${opts.label} first prompt again`);
  } else {
    assertRun(
      again.gateway.every((g) => g.layer !== "l1a"),
      again,
      `second run: expected no cache hit (${rerun.why})`,
    );
    const loopFirst = rig.mock.requests[upstreamBefore - loop.upstream];
    const againFirst = rig.mock.requests[upstreamBefore];
    assertDifferOnlyIn(
      loopFirst.rawBody,
      againFirst.rawBody,
      rerun.patterns,
      `${opts.label} prompt`,
    );
  }
  return { runs };
}
