/**
 * `isartor connect <tool>`: points a coding tool at the gateway by editing the
 * tool's own config files (comments and layout kept, a backup first, only
 * our entries), shows what it changes, and undoes it exactly. The targets
 * live in cli/connect/, one file each; `connect status` is in
 * cli/connect/status.ts.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createTwoFilesPatch } from "diff";
import { PROVIDERS } from "../src/providers/table.ts";
import { homeDir, loadCliConfig } from "./config.ts";
import { maskKey } from "./credentials.ts";
import { type CliIO, EXIT, style, UsageError } from "./io.ts";
import { InputCancelled, readSecret } from "./secret_input.ts";
import { gatewayUrl as runningGatewayUrl } from "./stats.ts";
import {
  applyChanges,
  planChanges,
  planUndo,
  readManifest,
  undoChanges,
} from "./connect/backup.ts";
import { EditError } from "./connect/edit.ts";
import { githubTokenFor } from "./connect/github_token.ts";
import { DeviceFlowError } from "./github_device_flow.ts";
import { mcpLaunch } from "./connect/mcp_entry.ts";
import { runConnectStatus } from "./connect/status.ts";
import type { ConnectContext, Platform } from "./connect/target.ts";
import { TARGETS } from "./connect/targets.ts";

const width = Math.max(...Object.keys(TARGETS).map((n) => n.length));

/** Help for `isartor connect`. */
export const usage = `isartor connect <tool> [options]
isartor connect status [--json]

Points a coding tool at the gateway: writes the tool's own config where the
tool reads it, keeping your comments and layout, changing only isartor's
entries, after a backup. Running it twice changes nothing; --disconnect puts
the files back exactly as they were (only our entries are taken out of a file
you edited since).

Tools:
${Object.values(TARGETS).map((t) => `  ${t.name.padEnd(width)}  ${t.summary}`).join("\n")}
  ${"status".padEnd(width)}  each tool: connected or not, its files, and a live test request

Options:
  --dry-run              print the diff of what would change; write nothing
  --show-config          print the files as they would be written (keys masked)
  --disconnect           undo: restore the files (byte-identical when untouched since)
  --gateway-url URL      the gateway (default: the running one, else host_port)
  --gateway-api-key -    read the gateway key from stdin or a hidden prompt (default:
                         gateway_api_key from the config, credentials or ISARTOR__GATEWAY_API_KEY);
                         a literal key here lands in your shell history
  --model M              the model the tool asks for (claude, claude-copilot, codex, gemini,
                         copilot, copilot-vscode, opencode, openclaw, generic)
  --fast-model M         the small/fast model (claude, claude-copilot, opencode)
  --github-token -       claude-copilot: the GitHub token (else GITHUB_TOKEN, else the device flow)
  --device               claude-copilot: sign in on github.com with a code (the default in a terminal)
  --url-var, --key-var, --model-var NAME
                         generic: the variable names (default OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL)
  --json                 status: the report as JSON
  --no-test              status: skip the live test request
  -h, --help             show this help

Files holding a key are written 0600. Backups and the undo record live in
<data_dir>/connect/.

Examples:
  isartor connect claude                     Claude Code via ~/.claude/settings.json
  isartor connect codex --model gpt-5-codex  Codex with a custom provider
  isartor connect claude --dry-run           show the diff first
  isartor connect cursor                     register the isartor MCP server in Cursor
  isartor connect claude-copilot             Claude Code on your Copilot subscription (signs in)
  isartor connect generic --url-var MY_TOOL_BASE_URL --key-var MY_TOOL_KEY
  isartor connect status                     which tools are connected, and a test request
  isartor connect codex --disconnect         undo`;

function platform(): Platform {
  return Deno.build.os === "darwin" ? "darwin" : Deno.build.os === "windows" ? "windows" : "linux";
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

async function secretArg(
  value: string | undefined,
  what: string,
  io: CliIO,
): Promise<string | undefined> {
  if (value === undefined) return undefined;
  if (value !== "-") {
    io.err(
      style(
        io,
        `isartor connect: the ${what} on the command line is visible to other processes ` +
          `and lands in your shell history; prefer \`--${what.replaceAll(" ", "-")} -\``,
        "yellow",
      ),
    );
    return value;
  }
  try {
    return await readSecret(`${what} (input hidden): `);
  } catch (e) {
    if (e instanceof InputCancelled) throw new UsageError(`no ${what} given`);
    throw e;
  }
}

function mask(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.replaceAll(s, maskKey(s));
  return out;
}

/** Runs `isartor connect`. */
export async function runConnect(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      "dry-run": { type: "boolean" },
      "show-config": { type: "boolean" },
      disconnect: { type: "boolean" },
      "gateway-url": { type: "string" },
      "gateway-api-key": { type: "string" },
      model: { type: "string" },
      "fast-model": { type: "string" },
      "github-token": { type: "string" },
      device: { type: "boolean" },
      "url-var": { type: "string" },
      "key-var": { type: "string" },
      "model-var": { type: "string" },
      json: { type: "boolean" },
      "no-test": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.out(usage);
    return EXIT.ok;
  }
  const [name, ...more] = positionals;
  if (!name) throw new UsageError("name a tool: " + [...Object.keys(TARGETS), "status"].join(", "));
  if (more.length) throw new UsageError(`one tool at a time (got ${positionals.join(", ")})`);
  const target = TARGETS[name];
  if (!target && name !== "status") {
    throw new UsageError(
      `unknown tool "${name}"; the tools: ${[...Object.keys(TARGETS), "status"].join(", ")}`,
    );
  }
  for (const opt of ["model", "fast-model"] as const) {
    if (values[opt] !== undefined && target && !target.options.includes(opt)) {
      throw new UsageError(`${name} has no --${opt} setting`);
    }
  }
  for (const opt of ["url-var", "key-var", "model-var"] as const) {
    const v = values[opt];
    if (v === undefined) continue;
    if (name !== "generic") throw new UsageError(`--${opt} is for \`connect generic\``);
    if (!VAR_NAME.test(v)) {
      throw new UsageError(`--${opt} ${JSON.stringify(v)} is not a variable name`);
    }
  }
  for (const opt of ["github-token", "device"] as const) {
    if (values[opt] !== undefined && name !== "claude-copilot") {
      throw new UsageError(`--${opt} is for \`connect claude-copilot\``);
    }
  }
  if (values["gateway-url"] !== undefined) {
    try {
      const u = new URL(values["gateway-url"]);
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
    } catch {
      throw new UsageError(
        `--gateway-url ${JSON.stringify(values["gateway-url"])} is not an http(s) URL`,
      );
    }
  }

  const { config } = loadCliConfig({}, { warn: (l) => io.err(l) });
  const gatewayKey = (await secretArg(values["gateway-api-key"], "gateway api key", io)) ??
    config.gateway_api_key;
  const url = (values["gateway-url"] ?? runningGatewayUrl(config)).replace(/\/+$/, "");
  const stateDir = `${config.data_dir.replace(/[\\/]+$/, "")}/connect`;
  const env = Deno.env.toObject();
  const ctx: ConnectContext = {
    home: homeDir(),
    env,
    platform: platform(),
    gatewayUrl: url,
    gatewayKey,
    model: values.model,
    fastModel: values["fast-model"],
    defaultModel: config.external_llm_model || PROVIDERS[config.llm_provider]?.defaultModel ||
      "gpt-4o-mini",
    mcp: mcpLaunch(url),
    dataDir: config.data_dir,
    extra: { urlVar: values["url-var"], keyVar: values["key-var"], modelVar: values["model-var"] },
  };

  if (name === "status") {
    return await runConnectStatus(ctx, stateDir, io, {
      json: !!values.json,
      test: !values["no-test"],
    });
  }
  const secrets = [gatewayKey];

  if (values.disconnect) {
    const m = readManifest(stateDir, target.name);
    if (!m) {
      io.out(`${target.label} is not connected (no record in ${stateDir}); nothing to undo`);
      return EXIT.ok;
    }
    if (values["dry-run"]) {
      for (const f of m.files) {
        const plan = await planUndo(f);
        io.out(mask(diffText(f.path, plan.current, plan.text), secrets));
      }
      return EXIT.ok;
    }
    const steps = await undoChanges(stateDir, target.name);
    for (const s of steps ?? []) io.out(`${s.action.padEnd(15)} ${s.path}`);
    io.out(style(io, `${target.label} disconnected from the gateway`, "green"));
    return EXIT.ok;
  }

  if (target.name === "claude-copilot") {
    const preview = values["dry-run"] || values["show-config"];
    let token;
    try {
      token = await githubTokenFor({
        flag: await secretArg(values["github-token"], "github token", io),
        env: env.GITHUB_TOKEN,
        deviceFlow: !preview && (!!values.device || io.isTty),
        githubUrl: config.copilot_github_url,
        io,
      });
    } catch (e) {
      if (!(e instanceof DeviceFlowError)) throw e;
      io.err(style(io, `isartor connect claude-copilot: ${e.message}`, "red"));
      return EXIT.failure;
    }
    ctx.extra = { ...ctx.extra, githubToken: token ?? (preview ? "<github token>" : undefined) };
    if (!ctx.extra.githubToken) {
      throw new UsageError(
        "claude-copilot needs a GitHub token: --device (sign in on github.com), " +
          "--github-token - (reads it hidden), or GITHUB_TOKEN",
      );
    }
    secrets.push(ctx.extra.githubToken);
  }

  let changes;
  try {
    changes = planChanges(target.files(ctx));
  } catch (e) {
    if (e instanceof EditError) {
      io.err(style(io, `isartor connect ${name}: ${e.message}`, "red"));
      return EXIT.failure;
    }
    throw e;
  }
  if (values["show-config"]) {
    for (const c of changes) {
      io.out(style(io, `# ${c.spec.label}: ${c.spec.path}`, "bold"));
      io.out(mask(c.after, secrets).replace(/\n$/, ""));
      io.out("");
    }
    return EXIT.ok;
  }
  if (values["dry-run"]) {
    const diffs = changes.filter((c) => c.after !== c.before);
    if (diffs.length === 0) io.out(`${target.label} is already connected; nothing would change`);
    for (const c of diffs) io.out(mask(diffText(c.spec.path, c.before, c.after), secrets));
    return EXIT.ok;
  }
  const report = await applyChanges(stateDir, target.name, url, changes);
  for (const p of report.changed) io.out(`${"updated".padEnd(10)} ${p}`);
  for (const p of report.unchanged) io.out(`${"unchanged".padEnd(10)} ${p}`);
  for (const b of report.backups) io.out(style(io, `${"backup".padEnd(10)} ${b}`, "dim"));
  io.out(style(
    io,
    report.changed.length
      ? `${target.label} now talks to the gateway at ${url}`
      : `${target.label} was already connected to ${url}; nothing changed`,
    "green",
  ));
  for (const n of target.notes(ctx)) io.out(`  next: ${n}`);
  io.out(`  undo: isartor connect ${target.name} --disconnect`);
  return EXIT.ok;
}

/** A unified diff of one file (`/dev/null` for a missing side). */
export function diffText(path: string, before: string | null, after: string | null): string {
  return createTwoFilesPatch(
    before === null ? "/dev/null" : path,
    after === null ? "/dev/null" : path,
    before ?? "",
    after ?? "",
    undefined,
    undefined,
    { context: 3 },
  ).replace(/^=+\n/, "").replace(/\n$/, "");
}
