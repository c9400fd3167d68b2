/**
 * What a `connect` target is: a tool, the files it reads, and what we write
 * there. Targets are data plus a `files` function; the command
 * (../connect.ts) plans, diffs, backs up, writes and undoes.
 *
 * @module
 */

import type { FileSpec, Setting } from "./edit.ts";

/** The operating systems whose config locations differ. */
export type Platform = "linux" | "darwin" | "windows";

/** Everything a target needs to know to describe its files. */
export interface ConnectContext {
  /** The user's home directory. */
  home: string;
  /** The environment (override variables such as CLAUDE_CONFIG_DIR, XDG_CONFIG_HOME, APPDATA). */
  env: Readonly<Record<string, string | undefined>>;
  platform: Platform;
  /** The gateway's base URL without a trailing slash, e.g. http://127.0.0.1:8080. */
  gatewayUrl: string;
  /** The gateway API key, "" when the gateway has none. */
  gatewayKey: string;
  /** `--model`, when given. */
  model?: string;
  /** `--fast-model`, when given. */
  fastModel?: string;
  /** A model to name when the tool needs one and none was given (the gateway's configured model). */
  defaultModel: string;
  /** How a tool starts the isartor MCP server (stdio). */
  mcp: { command: string; args: string[] };
  /** isartor's data directory (for files we own, such as env files). */
  dataDir: string;
  /** Target-specific options (`--url-var` for generic, the GitHub token for claude-copilot). */
  extra: Readonly<Record<string, string | undefined>>;
}

/** One tool `isartor connect` can point at the gateway. */
export interface ConnectTarget {
  /** The name users type: `isartor connect <name>`. */
  name: string;
  /** The tool's own name. */
  label: string;
  /** One line for `connect --help`. */
  summary: string;
  /** Which of `--model` / `--fast-model` it takes. */
  options: ReadonlyArray<"model" | "fast-model">;
  /** The files and what we own in them. */
  files(ctx: ConnectContext): FileSpec[];
  /** What the user still has to do (restart the app, source a file...). */
  notes(ctx: ConnectContext): string[];
  /** The protocol its live test in `connect status` speaks (`mcp`: it only hosts the MCP server). */
  probe: "openai_chat" | "openai_responses" | "anthropic" | "gemini" | "mcp";
}

/** The key a tool sends when the gateway has none (any non-empty value; never a secret). */
export const LOCAL_TOKEN = "isartor-local";

/** The key to write: the gateway's, else the local marker. */
export function tokenFor(ctx: ConnectContext): string {
  return ctx.gatewayKey || LOCAL_TOKEN;
}

/** The secret of a file that holds the gateway key (undefined when it holds none). */
export function secretOf(ctx: ConnectContext): string | undefined {
  return ctx.gatewayKey || undefined;
}

/** Joins path parts with `/` (Deno accepts it on Windows too). */
export function join(...parts: string[]): string {
  return parts.map((
    p,
    i,
  ) => (i === 0 ? p.replace(/[\\/]+$/, "") : p.replace(/^[\\/]+|[\\/]+$/g, "")))
    .join("/");
}

/** `$XDG_CONFIG_HOME`, else `~/.config`. */
export function xdgConfig(ctx: ConnectContext): string {
  return ctx.env.XDG_CONFIG_HOME || join(ctx.home, ".config");
}

/** `$XDG_DATA_HOME`, else `~/.local/share`. */
export function xdgData(ctx: ConnectContext): string {
  return ctx.env.XDG_DATA_HOME || join(ctx.home, ".local", "share");
}

/**
 * Where a desktop app keeps per-user config: `~/Library/Application Support`
 * on macOS, `%APPDATA%` on Windows, `$XDG_CONFIG_HOME` (or `~/.config`) on Linux.
 */
export function appConfigDir(ctx: ConnectContext): string {
  if (ctx.platform === "darwin") return join(ctx.home, "Library", "Application Support");
  if (ctx.platform === "windows") return ctx.env.APPDATA || join(ctx.home, "AppData", "Roaming");
  return xdgConfig(ctx);
}

/** The MCP server entry most hosts read (`mcpServers.<name>` with command and args). */
export function mcpServerEntry(ctx: ConnectContext): { command: string; args: string[] } {
  return { command: ctx.mcp.command, args: [...ctx.mcp.args] };
}

/** The env file of a tool that reads its settings from the environment only. */
export function envFilePath(ctx: ConnectContext, tool: string): string {
  return join(ctx.dataDir, "connect", `${tool}.env`);
}

/**
 * That env file's spec: `export NAME=value` lines in `<data_dir>/connect/<tool>.env`,
 * 0600 when it holds the gateway key; the user sources it (see {@linkcode sourceNote}).
 */
export function envFileSpec(
  ctx: ConnectContext,
  tool: string,
  label: string,
  settings: Setting[],
): FileSpec {
  return {
    path: envFilePath(ctx, tool),
    format: "dotenv",
    exportLines: true,
    label,
    settings,
    secret: secretOf(ctx),
  };
}

/** The note that tells the user to source a tool's env file. */
export function sourceNote(ctx: ConnectContext, tool: string, before: string): string {
  return `run \`. ${envFilePath(ctx, tool)}\` ${before}`;
}
