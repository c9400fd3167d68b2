/**
 * `isartor init`: writes a commented `isartor.toml` listing every key with
 * its meaning and default, and never overwrites one without `--force`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parse as parseToml } from "smol-toml";
import { configFileCandidates, loadConfig } from "../src/config/load.ts";
import { homeDir, isartorEnv } from "./config.ts";
import { scaffoldToml, schemaKeys, uncommentScaffold } from "./init_scaffold.ts";
import { type CliIO, EXIT, style } from "./io.ts";

/** Help for `isartor init`. */
export const usage = `isartor init [--path P] [--force] [--json]

Writes a commented isartor.toml that lists every configuration key with its
meaning and default. Keys stay out of it: store them with \`isartor set-key\`.

Options:
  --path P    where to write (a file, or a directory to hold isartor.toml; default ./isartor.toml)
  --force     overwrite an existing file
  --json      print what was written as JSON
  -h, --help  show this help

Examples:
  isartor init
  isartor init --path ~/.isartor/isartor.toml
  isartor init --force`;

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** The file to write for a `--path` value. */
export function targetPath(path: string | undefined, cwd: string, home: string): string {
  let p = path ?? "isartor.toml";
  if (p === "~" || p.startsWith("~/")) p = `${home}${p.slice(1)}`;
  if (!p.startsWith("/") && !/^[A-Za-z]:[\\/]/.test(p)) p = `${cwd}/${p}`;
  if (p.endsWith("/") || isDirectory(p)) p = `${p.replace(/\/+$/, "")}/isartor.toml`;
  return p;
}

/**
 * Checks a scaffold: it parses as TOML, and with every setting enabled it
 * loads as a valid configuration. Throws with the reason otherwise.
 */
export function validateScaffold(text: string, path: string): void {
  parseToml(text);
  const enabled = uncommentScaffold(text);
  const loaded = loadConfig({
    cwd: "/nonexistent",
    home: "/nonexistent",
    env: { ISARTOR_CONFIG: path },
    readTextFile: (p) => (p === path ? enabled : null),
  });
  const missing = schemaKeys().filter((k) => !(k in (parseToml(enabled) as object)));
  if (loaded.unknownKeys.length || missing.length) {
    throw new Error(
      `scaffold out of step with the schema (unknown: ${loaded.unknownKeys.join(", ")}; missing: ${
        missing.join(", ")
      })`,
    );
  }
}

/** Runs `isartor init`. */
export function runInit(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      path: { type: "string" },
      force: { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    io.out(usage);
    return Promise.resolve(EXIT.ok);
  }
  const home = homeDir();
  const path = targetPath(values.path, Deno.cwd(), home);
  const existed = exists(path);
  if (existed && !values.force) {
    io.err(style(
      io,
      `isartor init: ${path} already exists; nothing was changed. To replace it with a fresh scaffold: isartor init --force${
        values.path ? ` --path ${values.path}` : ""
      } (or write elsewhere with --path)`,
      "red",
    ));
    return Promise.resolve(EXIT.failure);
  }
  const text = scaffoldToml();
  validateScaffold(text, path);
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(path, text);

  // Which file the gateway will read: tell the user when it is not this one.
  const candidates = configFileCandidates({ cwd: Deno.cwd(), home, env: isartorEnv() });
  const active = candidates.find(exists) ?? null;
  const keys = schemaKeys().length;
  if (values.json) {
    io.out(JSON.stringify({ path, keys, overwritten: existed, active_config: active }, null, 2));
    return Promise.resolve(EXIT.ok);
  }
  io.out(
    `${style(io, "✓", "green")} ${
      existed ? "overwrote" : "wrote"
    } ${path} (${keys} keys, commented)`,
  );
  if (active !== path) {
    io.out(
      `  note: isartor reads ${
        active ?? candidates.join(" or ")
      } first; set ISARTOR_CONFIG=${path} to use this file`,
    );
  }
  io.out(
    `next: ${
      style(io, "isartor set-key -p <provider>", "bold")
    } (stores your key outside this file), then ${style(io, "isartor check", "bold")}`,
  );
  return Promise.resolve(EXIT.ok);
}
