/**
 * `isartor connect status`: each tool, connected or not, the files we wrote
 * (and whether they still hold our entries), and a live test request through
 * the gateway showing the layer that answered. Keys are never printed.
 *
 * @module
 */

import { type CliIO, EXIT, style } from "../io.ts";
import { readManifest } from "./backup.ts";
import { type FileSpec, holdsSettings } from "./edit.ts";
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
}

/** The live test's outcome. */
export interface ProbeStatus {
  ok: boolean;
  status: number | null;
  layer: string | null;
  provider: string | null;
  error?: string;
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
    };
  });
}

/** Sends one small chat request through the gateway. */
export async function probeGateway(ctx: ConnectContext): Promise<ProbeStatus> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (ctx.gatewayKey) headers.authorization = `Bearer ${ctx.gatewayKey}`;
  try {
    const res = await fetch(`${ctx.gatewayUrl}/v1/chat/completions`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        model: ctx.defaultModel,
        messages: [{ role: "user", content: "isartor connect status: reply with ok" }],
        max_tokens: 8,
      }),
      signal: AbortSignal.timeout(30_000),
    });
    await res.body?.cancel();
    return {
      ok: res.ok,
      status: res.status,
      layer: res.headers.get("x-isartor-layer"),
      provider: res.headers.get("x-isartor-provider"),
    };
  } catch (e) {
    return { ok: false, status: null, layer: null, provider: null, error: (e as Error).message };
  }
}

/** Runs `isartor connect status`. */
export async function runConnectStatus(
  ctx: ConnectContext,
  stateDir: string,
  io: CliIO,
  opts: { json: boolean; test: boolean },
): Promise<number> {
  const tools = toolStatuses(stateDir);
  const test = opts.test ? await probeGateway(ctx) : null;
  if (opts.json) {
    io.out(JSON.stringify({ gateway_url: ctx.gatewayUrl, tools, test }, null, 2));
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
  }
  if (test) {
    io.out(
      test.status === null
        ? `test request: the gateway did not answer (${test.error})`
        : `test request: ${test.status}, answered by ${test.layer ?? "?"}${
          test.provider ? ` (${test.provider})` : ""
        }`,
    );
  }
  return EXIT.ok;
}
