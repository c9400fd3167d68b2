/**
 * `isartor logs`: the end of the gateway's log (`<data_dir>/isartor.log`), or
 * of the request log (`--requests`), optionally followed as it grows and
 * across rotations.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { RequestLogLine } from "../src/telemetry/request_log.ts";
import { loadCliConfig } from "./config.ts";
import { type CliIO, EXIT, style, UsageError } from "./io.ts";
import { gatewayFiles, sleep } from "./process.ts";

export const usage = `isartor logs [--follow] [--requests] [-n N] [--json]

Prints the end of the gateway's log (written by \`isartor up --detach\`), or
with --requests one line per request: time, client tool, route, model, the
layer that answered, status, latency and tokens. Prompts and keys are never logged.

Options:
  -f, --follow     keep printing new lines (follows log rotation); Ctrl-C ends
  -r, --requests   show the request log instead of the gateway's log
  -n, --lines N    how many lines to show first (default 50)
  --json           with --requests: print the raw JSON lines

Examples:
  isartor logs
  isartor logs --follow
  isartor logs --requests -n 20
  isartor logs --requests --json | jq .latency_ms`;

const POLL_MS = 250;
const TAIL_MAX_BYTES = 4 << 20;
const decoder = new TextDecoder();

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** The fields of a request shown in a row (a request log line, or a recent request of the stats). */
export type RequestRow = Pick<
  RequestLogLine,
  | "time"
  | "tool"
  | "route"
  | "model"
  | "layer"
  | "status"
  | "latency_ms"
  | "input_tokens"
  | "output_tokens"
>;

/** A request log line as a readable row (the line itself when it is not JSON). */
export function formatRequestLine(io: CliIO, raw: string): string {
  try {
    return formatRequest(io, JSON.parse(raw));
  } catch {
    return raw;
  }
}

/** One request as a row: time, tool, route, model, layer, status, latency, tokens. */
export function formatRequest(io: CliIO, r: RequestRow): string {
  const d = new Date(r.time);
  const time = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${
    pad(d.getHours())
  }:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const tokens = r.input_tokens === null && r.output_tokens === null
    ? "-"
    : `${r.input_tokens ?? "?"} in / ${r.output_tokens ?? "?"} out`;
  const layer = r.layer.padEnd(7);
  const shownLayer = r.status >= 400
    ? style(io, layer, "red")
    : r.layer === "l3"
    ? layer
    : style(io, layer, "green");
  return [
    time,
    String(r.tool).slice(0, 22).padEnd(22),
    String(r.route).padEnd(16),
    String(r.model || "-").slice(0, 28).padEnd(28),
    shownLayer,
    String(r.status).padEnd(3),
    `${Math.round(r.latency_ms)}ms`.padStart(8),
    ` ${tokens}`,
  ].join("  ");
}

/** An open file being read line by line from a position. */
interface Cursor {
  file: Deno.FsFile;
  ino: number | null;
  pos: number;
  carry: string;
}

async function readNew(c: Cursor, emit: (line: string) => void): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  await c.file.seek(c.pos, Deno.SeekMode.Start);
  while (true) {
    const n = await c.file.read(buf);
    if (n === null || n === 0) break;
    c.pos += n;
    const text = c.carry + decoder.decode(buf.subarray(0, n), { stream: true });
    const lines = text.split("\n");
    c.carry = lines.pop() ?? "";
    for (const line of lines) emit(line);
  }
}

/** Opens a file positioned so that the last `n` lines come out first. */
async function openTail(path: string, n: number, emit: (line: string) => void): Promise<Cursor> {
  const file = await Deno.open(path, { read: true });
  const stat = await file.stat();
  const start = Math.max(0, stat.size - TAIL_MAX_BYTES);
  const c: Cursor = { file, ino: stat.ino, pos: start, carry: "" };
  const lines: string[] = [];
  await readNew(c, (l) => lines.push(l));
  if (start > 0) lines.shift(); // the first line is cut
  for (const line of lines.slice(Math.max(0, lines.length - n))) emit(line);
  return c;
}

/** Prints new lines as the file grows; re-opens it when it is rotated or truncated. Never returns. */
async function follow(path: string, c: Cursor, emit: (line: string) => void): Promise<never> {
  while (true) {
    await readNew(c, emit);
    await sleep(POLL_MS);
    let stat: Deno.FileInfo;
    try {
      stat = await Deno.stat(path);
    } catch {
      continue; // rotated away; the gateway recreates it
    }
    const rotated = stat.ino !== null && c.ino !== null && stat.ino !== c.ino;
    if (rotated || stat.size < c.pos) {
      await readNew(c, emit); // the rest of the old file
      if (c.carry) emit(c.carry);
      c.file.close();
      c.file = await Deno.open(path, { read: true });
      c.ino = stat.ino;
      c.pos = 0;
      c.carry = "";
    }
  }
}

async function waitForFile(path: string): Promise<void> {
  while (true) {
    try {
      await Deno.stat(path);
      return;
    } catch {
      await sleep(POLL_MS);
    }
  }
}

/** Runs `isartor logs`. */
export async function runLogs(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      follow: { type: "boolean", short: "f" },
      requests: { type: "boolean", short: "r" },
      lines: { type: "string", short: "n" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    io.out(usage);
    return EXIT.ok;
  }
  const n = values.lines === undefined ? 50 : Number(values.lines);
  if (!Number.isInteger(n) || n < 0) {
    throw new UsageError(`--lines must be a whole number, got "${values.lines}"`);
  }
  if (values.json && !values.requests) {
    throw new UsageError("--json applies to the request log: use it with --requests");
  }
  const { config } = loadCliConfig();
  const files = gatewayFiles(config.data_dir);
  const path = values.requests ? files.requests : files.log;
  const emit = values.requests && !values.json
    ? (line: string) => line && io.out(formatRequestLine(io, line))
    : (line: string) => io.out(line);

  try {
    await Deno.stat(path);
  } catch {
    const what = values.requests
      ? `no request log at ${path} yet: it fills as requests reach the gateway (log_requests = true)`
      : `no log at ${path} yet: \`isartor up --detach\` writes it (a foreground gateway prints to its terminal)`;
    if (!values.follow) {
      io.err(`isartor logs: ${what}`);
      return EXIT.failure;
    }
    io.err(`isartor logs: ${what}; waiting for it...`);
    await waitForFile(path);
  }
  const cursor = await openTail(path, n, emit);
  if (!values.follow) {
    if (cursor.carry) emit(cursor.carry);
    cursor.file.close();
    return EXIT.ok;
  }
  return await follow(path, cursor, emit);
}
