/**
 * One `isartor connect <tool>` check against a real agent CLI: the user's own files go on the
 * rig's temporary HOME, `isartor connect <tool> --gateway-url <rig>` edits them (their comments
 * must survive), the CLI runs once with a prompt and nothing but the rig's base environment, and
 * must be answered through the gateway by the provider (L3) without reaching any host but the
 * documented ones; `--disconnect` must then put every file back byte for byte and remove the ones
 * connect created.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type AgentRig, type AgentRun, assertRun, describeRun } from "./agent_harness.ts";
import { isartor } from "./cli_runner.ts";
import { DEFAULT_ANSWER_TEXT } from "./mock_upstream.ts";

/** What one connect scenario does. */
export interface ConnectScenario {
  /** The `connect` target. */
  tool: string;
  /** For the log. */
  label: string;
  /** The user's files before connect, by path under HOME; `comments` must survive connect. */
  userFiles: { path: string; text: string; comments: RegExp[] }[];
  /** Files (under HOME) connect creates and `--disconnect` removes again. */
  created?: string[];
  /** More `connect` arguments (`--model`). */
  connectArgs?: string[];
  /** Runs the CLI once; returns the run and the answer text it printed. */
  ask(prompt: string): Promise<AgentRun & { result: string }>;
  /** A path prefix on the gateway the CLI's requests use (`/v1/responses`). */
  route: string;
  /** `host:port` the CLI reaches on its own with no setting to stop it (documented per tool). */
  refusedAllowed?: string[];
  /** Checks between the CLI run and `--disconnect`. */
  afterRun?(): Promise<void>;
}

/** Runs the scenario on a rig; returns the CLI's run. */
export async function connectScenario(rig: AgentRig, s: ConnectScenario): Promise<AgentRun> {
  const before = new Map<string, Uint8Array>();
  for (const f of s.userFiles) {
    const path = `${rig.home}/${f.path}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, f.text);
    before.set(path, await Deno.readFile(path));
  }
  const cliEnv = {
    HOME: rig.home,
    XDG_CONFIG_HOME: rig.env.XDG_CONFIG_HOME,
    XDG_DATA_HOME: rig.env.XDG_DATA_HOME,
  };

  const connected = await isartor(
    ["connect", s.tool, "--gateway-url", rig.url, ...(s.connectArgs ?? [])],
    cliEnv,
  );
  assert.equal(connected.code, 0, connected.stderr);
  console.log(connected.stdout.trim().split("\n").map((l) => `  connect: ${l}`).join("\n"));
  for (const f of s.userFiles) {
    const text = await Deno.readTextFile(`${rig.home}/${f.path}`);
    for (const c of f.comments) assert.match(text, c, `${f.path} keeps the user's comments`);
  }

  const run = await s.ask("Say hello.");
  console.log(describeRun(`${s.label} after connect`, run));
  assertRun(run.code === 0 && run.result.includes(DEFAULT_ANSWER_TEXT), run, "answered");
  assertRun(run.wire.some((w) => w.path.startsWith(s.route)), run, "through the gateway");
  assertRun((run.layers.l3 ?? 0) > 0 && run.upstream > 0, run, "the gateway asked the provider");
  const other = run.refused.filter((h) => !(s.refusedAllowed ?? []).includes(h));
  assertRun(other.length === 0, run, `no other host (refused ${run.refused.join(", ")})`);
  await s.afterRun?.();

  const undo = await isartor(["connect", s.tool, "--disconnect"], cliEnv);
  assert.equal(undo.code, 0, undo.stderr);
  for (const [path, bytes] of before) {
    assert.deepEqual(await Deno.readFile(path), bytes, `${path} byte for byte`);
  }
  for (const f of s.created ?? []) {
    await assert.rejects(Deno.stat(`${rig.home}/${f}`), `${f} (created by connect) is gone`);
  }
  return run;
}
