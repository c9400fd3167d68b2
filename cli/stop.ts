/**
 * `isartor stop`: ends the running gateway gracefully (SIGTERM: it stops
 * accepting, lets in-flight requests finish, flushes caches and stats), or at
 * once with `--force`. Cleans a stale pid file.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { loadCliConfig } from "./config.ts";
import { type CliIO, EXIT, style, UsageError } from "./io.ts";
import { findInstance, gatewayFiles, isAlive, removePidFile, waitFor } from "./process.ts";
import { startSpinner } from "./spinner.ts";

export const usage = `isartor stop [--force] [--timeout S] [--json]

Stops the gateway started by \`isartor up\`: it stops accepting connections,
lets the requests in flight finish, flushes the caches and stats, then exits.

Options:
  --force       kill it at once (SIGKILL): requests in flight are cut
  --timeout S   seconds to wait for a graceful stop (default 10)
  --json        print {"stopped", "pid", "url"} or {"stopped": false, "reason"}

Exit codes: 0 stopped, 1 not running or did not stop in time, 2 usage.

Examples:
  isartor stop
  isartor stop --force`;

/** Runs `isartor stop`. */
export async function runStop(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      force: { type: "boolean" },
      timeout: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    io.out(usage);
    return EXIT.ok;
  }
  const timeoutSecs = values.timeout === undefined ? 10 : Number(values.timeout);
  if (!Number.isFinite(timeoutSecs) || timeoutSecs <= 0) {
    throw new UsageError(`--timeout must be a positive number of seconds, got "${values.timeout}"`);
  }
  const report = (ok: boolean, data: Record<string, unknown>, line: string) => {
    if (values.json) io.out(JSON.stringify({ stopped: ok, ...data }));
    else if (ok) io.out(style(io, line, "green"));
    else io.err(line);
    return ok ? EXIT.ok : EXIT.failure;
  };

  const { config } = loadCliConfig();
  const files = gatewayFiles(config.data_dir);
  const instance = await findInstance(files.pid);
  if (instance.state === "none") {
    return report(
      false,
      { reason: "not running" },
      `isartor is not running (no ${files.pid}); start it with \`isartor up --detach\``,
    );
  }
  if (instance.state === "stale") {
    removePidFile(files.pid);
    return report(
      false,
      { reason: "not running", stale_pid_file_removed: true },
      `isartor is not running; removed a stale pid file (${instance.reason})`,
    );
  }
  const { pid, url } = instance.info;
  try {
    Deno.kill(pid, values.force ? "SIGKILL" : "SIGTERM");
  } catch (e) {
    return report(
      false,
      { reason: (e as Error).message, pid },
      `isartor: cannot signal pid ${pid}: ${(e as Error).message}`,
    );
  }
  const spinner = startSpinner(
    io,
    values.force
      ? `killing isartor (pid ${pid})...`
      : `stopping isartor (pid ${pid}): finishing in-flight requests...`,
  );
  const gone = await waitFor(async () => !(await isAlive(pid)), timeoutSecs * 1000);
  spinner.stop();
  if (!gone) {
    return report(
      false,
      { reason: "timeout", pid, url },
      `isartor (pid ${pid}) did not stop within ${timeoutSecs}s (long requests may still be running); wait, or run \`isartor stop --force\``,
    );
  }
  removePidFile(files.pid, pid);
  return report(
    true,
    { pid, url },
    values.force ? `isartor killed (pid ${pid})` : `isartor stopped (pid ${pid}, was on ${url})`,
  );
}
