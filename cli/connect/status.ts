/**
 * `isartor connect status`: each tool, connected or not, the files we wrote
 * (and whether they still hold our entries), and for each connected tool a
 * live test request through the gateway in that tool's own protocol
 * (./probe.ts), showing the layer that answered. Keys are never printed.
 *
 * @module
 */

import { type CliIO, EXIT, style } from "../io.ts";
import { readManifest } from "./backup.ts";
import { type FileSpec, holdsSettings } from "./edit.ts";
import { type ProbeStatus, probeTool } from "./probe.ts";
import type { ConnectContext } from "./target.ts";
import { TARGETS } from "./targets.ts";

/** One file's state. */
export interface FileStatus {
  path: string;
  label: string;
  state: "ours" | "changed" | "missing";
}

/** One tool's state. */
export interface ToolStatus {
  tool: string;
  label: string;
  connected: boolean;
  files: FileStatus[];
  /** The live test in the tool's protocol; null when not run (not connected, or --no-test). */
  test: ProbeStatus | null;
}

function fileState(f: FileSpec): FileStatus["state"] {
  let text: string;
  try {
    text = Deno.readTextFileSync(f.path);
  } catch {
    return "missing";
  }
  try {
    return holdsSettings(text, f) ? "ours" : "changed";
  } catch {
    return "changed";
  }
}

/** The state of every tool from its connect record. */
export function toolStatuses(stateDir: string): ToolStatus[] {
  return Object.values(TARGETS).map((t) => {
    const m = readManifest(stateDir, t.name);
    const files = (m?.files ?? []).map((r) => ({
      path: r.path,
      label: r.label,
      state: fileState({
        path: r.path,
        format: r.format,
        settings: r.settings,
        root: r.root,
        label: r.label,
      }),
    }));
    return {
      tool: t.name,
      label: t.label,
      connected: !!m && files.every((f) => f.state === "ours"),
      files,
      test: null,
    };
  });
}

/** Runs `isartor connect status`. */
export async function runConnectStatus(
  ctx: ConnectContext,
  stateDir: string,
  io: CliIO,
  opts: { json: boolean; test: boolean },
): Promise<number> {
  const tools = toolStatuses(stateDir);
  if (opts.test) {
    // One at a time: the answers of one protocol may come from the cache the first filled.
    for (const t of tools) {
      if (t.files.length) t.test = await probeTool(TARGETS[t.tool].probe, ctx);
    }
  }
  if (opts.json) {
    io.out(JSON.stringify({ gateway_url: ctx.gatewayUrl, tools }, null, 2));
    return EXIT.ok;
  }
  io.out(`gateway: ${ctx.gatewayUrl}`);
  for (const t of tools) {
    const mark = t.connected
      ? style(io, "connected", "green")
      : t.files.length
      ? style(io, "changed since", "yellow")
      : style(io, "not connected", "dim");
    io.out(`  ${t.tool.padEnd(15)} ${mark}`);
    for (const f of t.files) io.out(`      ${f.state.padEnd(8)} ${f.path}`);
    if (t.test) io.out(`      test     ${testLine(t.test)}`);
  }
  if (opts.test && !tools.some((t) => t.test)) {
    io.out("no tool is connected: nothing to test (isartor connect <tool>)");
  }
  return EXIT.ok;
}

/** One line for a live test. */
function testLine(t: ProbeStatus): string {
  if (t.status === null) return `${t.protocol} ${t.path}: the gateway did not answer (${t.error})`;
  const by = t.layer ? `answered by ${t.layer}${t.provider ? ` (${t.provider})` : ""}` : "";
  return `${t.protocol} ${t.path}: ${t.status}${by ? `, ${by}` : ""}${
    t.ok ? "" : ` — ${t.error ?? "failed"}`
  }`;
}
