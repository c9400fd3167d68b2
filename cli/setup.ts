/**
 * `isartor setup`: the guided first run. It asks for a provider, its model
 * and key, offers to connect a coding tool, then runs `isartor check`, each
 * step done by the command a script would run (`set-key`, `connect`,
 * `check`, `init`), so the guide can do nothing the plain commands cannot.
 * Without a terminal (or with `--non-interactive`) it asks nothing: flags and
 * the key on stdin say everything.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { PROVIDER_NAMES, PROVIDERS } from "../src/providers/table.ts";
import { runCheck } from "./check.ts";
import { loadCliConfig } from "./config.ts";
import { runConnect } from "./connect.ts";
import { TARGETS } from "./connect/targets.ts";
import { maskKey } from "./credentials.ts";
import { runInit } from "./init.ts";
import { type CliIO, EXIT, style, UsageError } from "./io.ts";
import { readSecret } from "./secret_input.ts";
import { runSetKey } from "./set_key.ts";

/** Help for `isartor setup`. */
export const usage = `isartor setup [options]

A guided first run: pick a provider and model, store its key (hidden), connect
a coding tool if you like, then test it all with \`isartor check\`. On a
terminal it asks; otherwise (or with --non-interactive) it takes the flags and
reads the key from stdin. Each step is the command you could run yourself:
set-key, connect, check (and init with --init).

Options:
  -p, --provider P      the provider: ${PROVIDER_NAMES.join(", ")}
  -m, --model M         its model (default: the provider's default)
      --url URL         its base URL (openai_compatible, azure)
      --connect TOOL    then point a tool at the gateway: ${Object.keys(TARGETS).join(", ")}
      --init            also write a commented isartor.toml (when there is none)
      --no-check        skip the final \`isartor check\`
      --non-interactive never ask; missing choices take their defaults
  -h, --help            show this help

Examples:
  isartor setup
  echo "$GROQ_API_KEY" | isartor setup -p groq --connect claude
  isartor setup -p ollama -m llama3.2 --no-check`;

/** How setup asks a question: the answer, or null when the input ended. */
export type Ask = (question: string) => Promise<string | null>;

/** What setup needs from outside; tests replace it. */
export interface SetupDeps {
  /** Whether to ask (default: stdin and stdout are terminals). */
  interactive: boolean;
  ask: Ask;
  readKey: (prompt: string) => Promise<string>;
}

function defaultDeps(io: CliIO): SetupDeps {
  return {
    interactive: io.isTty && Deno.stdin.isTerminal(),
    ask: (q) => Promise.resolve(prompt(q)),
    readKey: readSecret,
  };
}

/** The provider a typed answer names: a number from the list or a name. */
export function pickProvider(answer: string, fallback: string): string | null {
  const a = answer.trim();
  if (!a) return fallback;
  if (/^\d+$/.test(a)) return PROVIDER_NAMES[Number(a) - 1] ?? null;
  return PROVIDERS[a] ? a : null;
}

async function askUntil<T>(
  io: CliIO,
  ask: Ask,
  question: string,
  accept: (answer: string) => T | null,
  hint: string,
): Promise<T> {
  for (let tries = 0; tries < 5; tries++) {
    const answer = await ask(question);
    if (answer === null) throw new UsageError("setup cancelled (input ended)");
    const v = accept(answer);
    if (v !== null) return v;
    io.err(style(io, hint, "yellow"));
  }
  throw new UsageError("setup cancelled (no valid answer)");
}

/** Runs `isartor setup`. */
export async function runSetup(
  args: string[],
  io: CliIO,
  deps: SetupDeps = defaultDeps(io),
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      provider: { type: "string", short: "p" },
      model: { type: "string", short: "m" },
      url: { type: "string" },
      connect: { type: "string" },
      init: { type: "boolean" },
      "no-check": { type: "boolean" },
      "non-interactive": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) {
    io.out(usage);
    return EXIT.ok;
  }
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const interactive = deps.interactive && !values["non-interactive"];
  if (values.provider && !PROVIDERS[values.provider]) {
    throw new UsageError(
      `unknown provider "${values.provider}"; one of: ${PROVIDER_NAMES.join(", ")}`,
    );
  }
  if (values.connect && values.connect !== "none" && !TARGETS[values.connect]) {
    throw new UsageError(
      `unknown tool "${values.connect}"; one of: ${Object.keys(TARGETS).join(", ")}`,
    );
  }
  if (!interactive && !values.provider) {
    throw new UsageError(
      "without a terminal, name the provider: isartor setup -p PROVIDER (the key on stdin)",
    );
  }
  const step = (n: number, title: string) => io.out(style(io, `\n[${n}/4] ${title}`, "bold"));
  const current = loadCliConfig({}, { warn: io.err }).config;

  // 1. Provider and model.
  step(1, "Provider");
  let provider = values.provider;
  if (!provider) {
    PROVIDER_NAMES.forEach((name, i) => {
      const spec = PROVIDERS[name];
      io.out(
        `  ${String(i + 1).padStart(2)}. ${name.padEnd(18)} ${spec.label}${
          spec.local ? " (local, no key)" : ""
        }`,
      );
    });
    const fallback = current.llm_provider;
    provider = await askUntil(
      io,
      deps.ask,
      `Provider (number or name) [${fallback}]:`,
      (a) => pickProvider(a, fallback),
      "  pick a number from the list, or type a provider's name",
    );
  }
  const spec = PROVIDERS[provider];
  let model = values.model;
  if (!model && interactive) {
    model = (await deps.ask(`Model [${spec.defaultModel}]:`))?.trim() || undefined;
  }
  let url = values.url;
  if (!url && !spec.baseUrl && interactive) {
    url = await askUntil(io, deps.ask, `${spec.label} base URL:`, (a) => {
      try {
        return /^https?:$/.test(new URL(a.trim()).protocol) ? a.trim() : null;
      } catch {
        return null;
      }
    }, "  an http:// or https:// URL, e.g. http://localhost:8000/v1");
  }
  io.out(`  ${spec.label}, model ${model ?? spec.defaultModel}`);

  // 2. The key, through set-key (credentials file, 0600).
  step(2, spec.local ? "Key (none needed: it runs locally)" : "Key");
  const stored = current.llm_provider === provider && current.external_llm_api_key;
  let keep = false;
  if (stored && interactive) {
    const a = (await deps.ask(`A key is stored (${maskKey(stored)}). Keep it? [Y/n]:`)) ?? "";
    keep = !/^n/i.test(a.trim());
  }
  if (keep && !values.model && !url) {
    io.out("  kept the stored key");
  } else {
    const setArgs = [
      "-p",
      provider,
      ...(model ? ["-m", model] : []),
      ...(url ? ["--url", url] : []),
    ];
    const readKey = keep ? () => Promise.resolve(String(stored)) : deps.readKey;
    const code = await runSetKey(setArgs, io, readKey);
    if (code !== EXIT.ok) return code;
  }
  if (values.init) {
    const code = await runInit([], io);
    if (code !== EXIT.ok) io.err("  (isartor.toml left as it was)");
  }

  // 3. A tool, through connect.
  step(3, "Connect a tool");
  let tool = values.connect;
  if (!tool && interactive) {
    io.out(`  ${Object.keys(TARGETS).join(", ")}`);
    tool = await askUntil(
      io,
      deps.ask,
      "Tool to point at the gateway [none]:",
      (a) => {
        const t = a.trim() || "none";
        return t === "none" || TARGETS[t] ? t : null;
      },
      "  a tool from the list, or Enter for none",
    );
  }
  if (tool && tool !== "none") {
    const code = await runConnect([tool], io);
    if (code !== EXIT.ok) return code;
  } else {
    io.out("  skipped (later: isartor connect <tool>)");
  }

  // 4. Check.
  step(4, "Check");
  if (values["no-check"]) {
    io.out("  skipped (later: isartor check)");
    return EXIT.ok;
  }
  return await runCheck([], io);
}
