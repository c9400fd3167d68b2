/**
 * The running gateway as files: `<data_dir>/isartor.pid` (who runs, where it
 * listens) and `<data_dir>/isartor.log` (what it printed when detached), plus
 * the checks `up`, `stop`, `logs` and `stats` share.
 *
 * @module
 */

/** The pid file name inside the data directory. */
export const PID_FILE = "isartor.pid";
/** The log file name inside the data directory. */
export const LOG_FILE = "isartor.log";
/** The log rotates to `isartor.log.1` past this size, when the gateway starts. */
export const LOG_MAX_BYTES = 10 * 1024 * 1024;

/** What the pid file holds. */
export interface PidInfo {
  pid: number;
  /** `http://host:port` as bound. */
  url: string;
  port: number;
  /** ISO time of the start. */
  started_at: string;
  version?: string;
}

/** The files of one data directory. */
export function gatewayFiles(dataDir: string): { pid: string; log: string; requests: string } {
  const dir = dataDir.replace(/[\\/]+$/, "");
  return {
    pid: `${dir}/${PID_FILE}`,
    log: `${dir}/${LOG_FILE}`,
    requests: `${dir}/requests.jsonl`,
  };
}

/** Reads the pid file; null when absent or unreadable (a broken file counts as stale). */
export function readPidFile(path: string): PidInfo | null | "broken" {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return null;
  }
  try {
    const v = JSON.parse(text);
    if (Number.isInteger(v?.pid) && v.pid > 0 && typeof v.url === "string") return v as PidInfo;
  } catch { /* broken */ }
  return "broken";
}

/** Writes the pid file (atomically). */
export function writePidFile(path: string, info: PidInfo): void {
  Deno.writeTextFileSync(`${path}.tmp`, JSON.stringify(info) + "\n", { mode: 0o600 });
  Deno.renameSync(`${path}.tmp`, path);
}

/** Removes the pid file; with `pid`, only if it still names that process. */
export function removePidFile(path: string, pid?: number): void {
  if (pid !== undefined) {
    const info = readPidFile(path);
    if (info === null || (info !== "broken" && info.pid !== pid)) return;
  }
  try {
    Deno.removeSync(path);
  } catch { /* already gone */ }
}

/** A /proc file's text; null when the process is gone, undefined when /proc may not be read. */
function procFile(pid: number, name: string): string | null | undefined {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/${name}`);
  } catch (e) {
    return e instanceof Deno.errors.NotFound ? null : undefined;
  }
}

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string } | null> {
  try {
    const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return { ok: r.success, out: new TextDecoder().decode(r.stdout) };
  } catch {
    return null;
  }
}

let procFs: boolean | undefined;
/** Whether /proc describes processes (Linux); checked lazily, never by the gateway process. */
function hasProc(): boolean {
  if (procFs === undefined) {
    try {
      procFs = Deno.build.os === "linux" && Deno.statSync("/proc/self").isDirectory;
    } catch {
      procFs = false;
    }
  }
  return procFs;
}

/** Whether a process is alive (a zombie is not). */
export async function isAlive(pid: number): Promise<boolean> {
  // Deno lets only broad permission sets read /proc; otherwise ask `kill -0`.
  const stat = hasProc() ? procFile(pid, "stat") : undefined;
  if (stat === null) return false;
  if (stat !== undefined) {
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  }
  if (Deno.build.os === "windows") {
    const r = await run("tasklist", ["/FI", `PID eq ${pid}`, "/NH"]);
    return r !== null && r.out.includes(String(pid));
  }
  const r = await run("kill", ["-0", String(pid)]);
  return r?.ok ?? false;
}

/**
 * Whether a live process is an isartor gateway (its command line has `__serve`);
 * null when the system cannot tell. Guards against signalling a reused pid.
 */
export async function isGatewayProcess(pid: number): Promise<boolean | null> {
  const cmdline = hasProc() ? procFile(pid, "cmdline") : undefined;
  if (cmdline !== undefined) return cmdline === null ? null : cmdline.includes("__serve");
  if (Deno.build.os === "windows") return null;
  const r = await run("ps", ["-p", String(pid), "-o", "command="]);
  return r?.ok ? r.out.includes("__serve") : null;
}

/** Whether the gateway at `url` answers `/healthz`. */
export async function isHealthy(url: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** What the pid file says about the gateway of a data directory. */
export type Instance =
  /** No pid file. */
  | { state: "none" }
  /** A live gateway; `healthy` when it answers `/healthz`. */
  | { state: "running"; info: PidInfo; healthy: boolean }
  /** A pid file whose process is gone (or is not a gateway): safe to remove. */
  | { state: "stale"; info: PidInfo | null; reason: string };

/** Looks at the pid file and the process it names. */
export async function findInstance(pidPath: string): Promise<Instance> {
  const info = readPidFile(pidPath);
  if (info === null) return { state: "none" };
  if (info === "broken") {
    return { state: "stale", info: null, reason: "the pid file is unreadable" };
  }
  if (!(await isAlive(info.pid))) {
    return { state: "stale", info, reason: `pid ${info.pid} is not running` };
  }
  const healthy = await isHealthy(info.url);
  if (healthy) return { state: "running", info, healthy };
  if ((await isGatewayProcess(info.pid)) === false) {
    return { state: "stale", info, reason: `pid ${info.pid} is another program now` };
  }
  return { state: "running", info, healthy };
}

/** Moves the log aside to `<log>.1` when it passed `maxBytes`. Returns whether it rotated. */
export function rotateLog(path: string, maxBytes = LOG_MAX_BYTES): boolean {
  try {
    if (Deno.statSync(path).size <= maxBytes) return false;
    Deno.renameSync(path, `${path}.1`);
    return true;
  } catch {
    return false;
  }
}

/** The last `n` lines of a file (reads at most the last `maxBytes`). */
export async function tailLines(path: string, n: number, maxBytes = 4 << 20): Promise<string[]> {
  if (n <= 0) return [];
  using file = await Deno.open(path, { read: true });
  const size = (await file.stat()).size;
  const start = Math.max(0, size - maxBytes);
  await file.seek(start, Deno.SeekMode.Start);
  const buf = new Uint8Array(size - start);
  let read = 0;
  while (read < buf.length) {
    const got = await file.read(buf.subarray(read));
    if (got === null) break;
    read += got;
  }
  let text = new TextDecoder().decode(buf.subarray(0, read));
  if (start > 0) text = text.slice(text.indexOf("\n") + 1);
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(-n);
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `done()` holds or `timeoutMs` passed; returns whether it held. */
export async function waitFor(
  done: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 100,
): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (true) {
    if (await done()) return true;
    if (Date.now() >= until) return false;
    await sleep(everyMs);
  }
}
