/**
 * The `isartor` command line: one file per command, all running the same
 * modules as the gateway.
 *
 * @module
 */

import { ConfigError } from "../src/config/load.ts";
import { VERSION } from "../src/version.ts";
import { type CliIO, EXIT, style, terminalIO, UsageError } from "./io.ts";
import { runCheck, usage as checkUsage } from "./check.ts";
import { runInit, usage as initUsage } from "./init.ts";
import { runServe } from "./serve.ts";
import { runSetKey, usage as setKeyUsage } from "./set_key.ts";
import { runUp, usage as upUsage } from "./up.ts";
import { runStop, usage as stopUsage } from "./stop.ts";
import { runLogs, usage as logsUsage } from "./logs.ts";
import { runStats, usage as statsUsage } from "./stats.ts";
import { runDemo, usage as demoUsage } from "./demo.ts";
import { runBench, usage as benchUsage } from "./bench.ts";
import { runModels, usage as modelsUsage } from "./models.ts";
import { runMcp, usage as mcpUsage } from "./mcp.ts";
import { runConnect, usage as connectUsage } from "./connect.ts";
import { runProviders, usage as providersUsage } from "./providers.ts";
import { runSetAlias, usage as setAliasUsage } from "./set_alias.ts";
import { runUpdate, usage as updateUsage } from "./update.ts";
import { runHealthcheck } from "./healthcheck.ts";
import { runSetup, usage as setupUsage } from "./setup.ts";

interface Command {
  summary: string;
  usage: string;
  run(args: string[], io: CliIO): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  setup: {
    summary: "guided first run: provider, key, connect a tool, check",
    usage: setupUsage,
    run: runSetup,
  },
  up: { summary: "start the gateway (--detach: in the background)", usage: upUsage, run: runUp },
  stop: { summary: "stop the gateway gracefully", usage: stopUsage, run: runStop },
  logs: { summary: "show the gateway's log or the request log", usage: logsUsage, run: runLogs },
  stats: {
    summary: "requests, deflection, tokens and cost saved",
    usage: statsUsage,
    run: runStats,
  },
  demo: { summary: "see the layers work, no key needed", usage: demoUsage, run: runDemo },
  bench: {
    summary: "measure the caches: semantic hit/false-hit rates, deflection on a workload",
    usage: benchUsage,
    run: runBench,
  },
  models: {
    summary: "download and list the local models (semantic cache embedder, L2 router)",
    usage: modelsUsage,
    run: runModels,
  },
  mcp: {
    summary: "the MCP server on stdio (isartor_chat, isartor_cache_store, isartor_stats)",
    usage: mcpUsage,
    run: runMcp,
  },
  connect: {
    summary: "point a coding tool at the gateway (claude, codex, gemini, cursor, ...; status)",
    usage: connectUsage,
    run: runConnect,
  },
  init: { summary: "write a commented isartor.toml", usage: initUsage, run: runInit },
  "set-key": {
    summary: "store a provider's API key (hidden prompt or pipe)",
    usage: setKeyUsage,
    run: runSetKey,
  },
  "set-alias": {
    summary: "write a model alias (fast = gpt-4o-mini) into isartor.toml",
    usage: setAliasUsage,
    run: runSetAlias,
  },
  check: {
    summary: "test providers, show layers, auth and allowed hosts",
    usage: checkUsage,
    run: runCheck,
  },
  providers: {
    summary: "list the providers, the configured chain, keys and call outcomes",
    usage: providersUsage,
    run: runProviders,
  },
  update: {
    summary: "replace this binary with a signed release (--rollback undoes)",
    usage: updateUsage,
    run: runUpdate,
  },
};

/** The top-level help. */
export function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    `isartor ${VERSION}: a local-first LLM gateway (prompt firewall)`,
    "",
    "Usage: isartor <command> [options]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    "Options:",
    "  -h, --help     show help (also: isartor <command> --help)",
    "  -V, --version  print the version",
    "",
    "Examples:",
    "  isartor setup              guided first run (provider, key, tool, check)",
    "  isartor set-key -p groq    store a key (prompted, hidden)",
    "  isartor check              test the key and show what would run",
    "  isartor up                 start the gateway on 127.0.0.1:8080",
    "  isartor up --port 9090     start it on another port",
    "  isartor up --detach        start it in the background (then: isartor stats, isartor stop)",
    "  isartor demo               watch the layers answer a bundled workload, no key needed",
    "  isartor mcp                the MCP server for a host: claude mcp add isartor -- isartor mcp",
    "  isartor connect claude     point Claude Code at the gateway (undo: --disconnect)",
    "  isartor update             replace this binary with the latest signed release",
    "",
    "Configuration: ./isartor.toml, ~/.isartor/isartor.toml, ISARTOR__KEY variables (docs/configuration.md)",
  ].join("\n");
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: CliIO = terminalIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    if (name === "help" && rest[0] && COMMANDS[rest[0]]) io.out(COMMANDS[rest[0]].usage);
    else io.out(helpText());
    return EXIT.ok;
  }
  if (name === "-V" || name === "--version" || name === "version") {
    io.out(`isartor ${VERSION}`);
    return EXIT.ok;
  }
  if (name === "__serve") return await runServe(io);
  if (name === "__health") return await runHealthcheck(io);
  const command = COMMANDS[name];
  if (!command) {
    io.err(`isartor: unknown command "${name}"; run \`isartor --help\` for the list`);
    return EXIT.usage;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.err(`isartor ${name}: ${(e as Error).message}`);
      io.err(`run \`isartor ${name} --help\` for usage`);
      return EXIT.usage;
    }
    if (e instanceof ConfigError) {
      io.err(style(io, (e as Error).message, "red"));
      return EXIT.failure;
    }
    io.err(style(io, `isartor ${name}: ${(e as Error).message}`, "red"));
    return EXIT.failure;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
