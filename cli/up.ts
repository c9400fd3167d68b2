/**
 * `isartor up`: starts the gateway as a child process with explicit, narrow
 * Deno permissions computed from the config, in the foreground or detached
 * (output to `<data_dir>/isartor.log`). Refuses to start a second instance.
 *
 * @module
 */

import { secureDataDir } from "../src/config/data_dir.ts";
import { parseArgs } from "node:util";
import type { Config } from "../src/config/schema.ts";
import { splitHostPort } from "../src/server.ts";
import { loadCliConfig, unusedKeyWarnings } from "./config.ts";
import { type CliIO, EXIT, style, UsageError } from "./io.ts";
import { gatewayPermissionFlags, otelEnvironment } from "./permissions.ts";
import { progressRenderer } from "./models.ts";
import { configuredBackend } from "../src/embed/build.ts";
import { ensureModel, type ModelEnv } from "../src/embed/models.ts";
import { targetProblem } from "../src/providers/targets.ts";
import { bindProblem } from "../src/server.ts";
import {
  findInstance,
  gatewayFiles,
  isHealthy,
  type PidInfo,
  readPidFile,
  removePidFile,
  rotateLog,
  waitFor,
} from "./process.ts";
import { startSpinner } from "./spinner.ts";

export const usage = `isartor up [--detach] [--port P] [--host H] [--json]

Starts the gateway: in the foreground (Ctrl-C stops it gracefully), or with
--detach in the background, its output going to <data_dir>/isartor.log.
Refuses to start while another isartor runs with the same data directory.

Options:
  -d, --detach   run in the background; prints the banner once it answers
  --port P       port to listen on (default from host_port, 8080)
  --host H       address to bind (default from host_port, 127.0.0.1);
                 any non-loopback address requires gateway_api_key
  --json         with --detach: print {"url", "pid", "log", "data_dir"}

Examples:
  isartor up
  isartor up --detach
  isartor up --port 9090 --detach
  isartor stop                 stop a detached gateway`;

/** How long a detached start may take before it counts as failed. */
const START_TIMEOUT_MS = 30_000;
/** The shell line that sends the child's output to the log file (appending). */
// umask 077: the log (and anything the gateway creates) is private to the user.
const REDIRECT = 'umask 077; exec "$0" "$@" >>"$ISARTOR_LOG_FILE" 2>&1';

/**
 * Whether this process is a `deno compile` binary (not `deno run`): its
 * permissions were fixed at compile time and cannot be narrowed per host.
 */
export function isCompiledBinary(): boolean {
  const base = Deno.execPath().split(/[\\/]/).pop() ?? "";
  return !/^deno(\.exe)?$/.test(base);
}

/** How to start the gateway process: the command and its arguments. */
export function serveCommand(config: Config): string[] {
  const exec = Deno.execPath();
  // A compiled binary carries its own permissions: it runs itself.
  if (isCompiledBinary()) return [exec, "__serve"];
  const main = Deno.mainModule;
  const path = main.startsWith("file:") ? new URL(main).pathname : main;
  // From source, deno.json brings the unstable features; the offline bundle
  // (dist/isartor.js) runs without a config, so it names them itself.
  const configFlag = path.endsWith(".ts")
    ? ["--config", new URL("../deno.json", main).pathname]
    : ["--no-config", "--unstable-kv", "--unstable-no-legacy-abort"];
  return [
    exec,
    "run",
    ...configFlag,
    ...gatewayPermissionFlags(config, modelEnv()),
    path,
    "__serve",
  ];
}

/** Applies --host/--port to the config. */
function applyBind(config: Config, host?: string, port?: string): void {
  if (!host && !port) return;
  const i = config.host_port.lastIndexOf(":");
  const h = host ?? config.host_port.slice(0, i);
  const p = port ?? config.host_port.slice(i + 1);
  if (!/^\d{1,5}$/.test(p) || Number(p) > 65535) {
    throw new UsageError(`--port must be a number from 0 to 65535, got "${p}"`);
  }
  config.host_port = `${h.includes(":") && !h.startsWith("[") ? `[${h}]` : h}:${p}`;
}

/** A one-line reason the address cannot be bound, or null. */
function portProblem(hostPort: string): string | null {
  const { hostname, port } = splitHostPort(hostPort);
  if (port === 0) return null;
  try {
    Deno.listen({ hostname, port }).close();
    return null;
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      return `${hostname}:${port} is already in use by another program; fix: stop that program, or pick another port with \`isartor up --port <P>\``;
    }
    if (e instanceof Deno.errors.AddrNotAvailable) {
      return `cannot bind ${hostname}: this machine has no such address; fix: use --host 127.0.0.1`;
    }
    return null;
  }
}

/** The environment the model code reads (the gateway process gets it on stdin, not as env access). */
export function modelEnv(): ModelEnv {
  const env: ModelEnv = {};
  for (const k of ["HF_HOME", "HF_ENDPOINT", "HOME"] as const) {
    const v = Deno.env.get(k);
    if (v) env[k] = v;
  }
  return env;
}

async function sendConfig(
  child: Deno.ChildProcess,
  config: Config,
  detached: boolean,
  origins: Record<string, string>,
) {
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(JSON.stringify({ config, detached, env: modelEnv(), origins })),
  );
  await writer.close();
}

/**
 * Makes sure the MiniLM model is on disk before the gateway starts: found
 * locally, or downloaded here with a progress bar (unless `offline_mode`), so
 * the gateway process itself never needs the hub's hosts. A failure is one
 * warning: the gateway then runs the semantic cache on the model-free embedder.
 */
async function prepareModel(config: Config, io: CliIO): Promise<void> {
  const semantic = config.cache_mode === "semantic" || config.cache_mode === "both";
  if (!semantic || configuredBackend(config) !== "minilm") return;
  const render = progressRenderer(io);
  let announced = false;
  const result = await ensureModel(config, {
    env: modelEnv(),
    download: !config.offline_mode,
    onEvent: (e) => {
      if (!announced) {
        announced = true;
        io.err("isartor: downloading the embedding model for the semantic cache (once)");
      }
      render.event(e);
    },
  });
  render.end();
  if (!result.ok) io.err(style(io, `isartor: warning: ${result.error}`, "yellow"));
}

/** Runs `isartor up`. */
export async function runUp(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      detach: { type: "boolean", short: "d" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    io.out(usage);
    return EXIT.ok;
  }
  if (values.json && !values.detach) throw new UsageError("--json needs --detach");
  const loaded = loadCliConfig();
  const { config } = loaded;
  applyBind(config, values.host, values.port);
  // Refuse a config that cannot work before spawning anything: one clear line.
  const configProblem = targetProblem(config) ?? bindProblem(config);
  if (configProblem) {
    io.err(style(io, configProblem, "red"));
    return EXIT.failure;
  }
  // Prompts, answers and logs live here: the user's alone (0700, files 0600).
  for (const w of secureDataDir(config.data_dir)) {
    io.err(style(io, `isartor: warning: ${w}`, "yellow"));
  }
  const files = gatewayFiles(config.data_dir);

  const instance = await findInstance(files.pid);
  if (instance.state === "running") {
    const { url, pid } = instance.info;
    io.err(style(
      io,
      instance.healthy
        ? `isartor is already running on ${url}, pid ${pid}; run \`isartor stop\` first`
        : `isartor (pid ${pid}) is running but does not answer on ${url}; run \`isartor stop\` first (or \`isartor stop --force\`)`,
      "red",
    ));
    return EXIT.failure;
  }
  if (instance.state === "stale") {
    removePidFile(files.pid);
    io.err(`isartor: removed a stale pid file (${instance.reason})`);
  }
  const problem = portProblem(config.host_port);
  if (problem) {
    io.err(style(io, `isartor: ${problem}`, "red"));
    return EXIT.failure;
  }
  for (const line of unusedKeyWarnings(loaded)) io.err(style(io, line, "yellow"));
  await prepareModel(config, io);
  return values.detach
    ? await runDetached(config, files, io, values.json === true, loaded.origins)
    : await runForeground(config, files.pid, loaded.origins);
}

async function runForeground(
  config: Config,
  pidPath: string,
  origins: Record<string, string>,
): Promise<number> {
  const [cmd, ...cmdArgs] = serveCommand(config);
  const child = new Deno.Command(cmd, {
    args: cmdArgs,
    env: otelEnvironment(config, Deno.env.toObject()),
    clearEnv: true,
    stdin: "piped",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  await sendConfig(child, config, false, origins);
  const forward = () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
  };
  // SIGINT reaches the whole process group from a terminal; swallow it here so the child can drain.
  const onInt = () => {};
  const unix = Deno.build.os !== "windows";
  if (unix) Deno.addSignalListener("SIGTERM", forward);
  Deno.addSignalListener("SIGINT", onInt);
  const status = await child.status;
  if (unix) Deno.removeSignalListener("SIGTERM", forward);
  Deno.removeSignalListener("SIGINT", onInt);
  removePidFile(pidPath, child.pid);
  return status.success ? EXIT.ok : EXIT.failure;
}

/** The log's lines written since byte `from`. */
function logSince(path: string, from: number): string[] {
  try {
    const bytes = Deno.readFileSync(path);
    const text = new TextDecoder().decode(bytes.subarray(Math.min(from, bytes.length)));
    return text.split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
}

async function runDetached(
  config: Config,
  files: ReturnType<typeof gatewayFiles>,
  io: CliIO,
  json: boolean,
  origins: Record<string, string>,
): Promise<number> {
  if (Deno.build.os === "windows") {
    io.err(
      "isartor up --detach is not supported on Windows yet; run `isartor up` in its own terminal",
    );
    return EXIT.failure;
  }
  if (rotateLog(files.log)) io.err(`isartor: rotated the log to ${files.log}.1`);
  let from = 0;
  try {
    from = Deno.statSync(files.log).size;
  } catch { /* no log yet */ }
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", REDIRECT, ...serveCommand(config)],
    env: { ...otelEnvironment(config, Deno.env.toObject()), ISARTOR_LOG_FILE: files.log },
    clearEnv: true,
    stdin: "piped",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  let exited = false;
  child.status.then(() => exited = true);
  await sendConfig(child, config, true, origins);

  const spinner = startSpinner(io, "starting isartor...");
  let info: PidInfo | null = null;
  const ready = await waitFor(async () => {
    if (exited) return true;
    const read = readPidFile(files.pid);
    if (read === null || read === "broken" || read.pid !== child.pid) return false;
    info = read;
    return await isHealthy(read.url, 1000);
  }, START_TIMEOUT_MS);
  spinner.stop();

  if (exited || !ready || info === null) {
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }
    const why = exited
      ? "exited during start"
      : `did not answer within ${START_TIMEOUT_MS / 1000}s`;
    io.err(style(io, `isartor: the gateway ${why}; the end of ${files.log}:`, "red"));
    for (const line of logSince(files.log, from).slice(-20)) io.err(`  ${line}`);
    removePidFile(files.pid, child.pid);
    return EXIT.failure;
  }
  child.unref();
  const started = info as PidInfo;
  if (json) {
    io.out(JSON.stringify({
      status: "running",
      url: started.url,
      pid: started.pid,
      log: files.log,
      data_dir: config.data_dir,
    }));
    return EXIT.ok;
  }
  for (const line of logSince(files.log, from)) io.out(line);
  io.out(style(io, `running in the background; log: ${files.log}`, "green"));
  return EXIT.ok;
}
