/**
 * `isartor set-key`: stores a provider's API key (hidden prompt or piped
 * stdin) in `<data_dir>/credentials`, so no command ever needs an exported
 * variable.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parse as parseToml } from "smol-toml";
import { configFileCandidates } from "../src/config/load.ts";
import { PROVIDER_NAMES, PROVIDERS } from "../src/providers/table.ts";
import { homeDir, isartorEnv, loadCliConfig } from "./config.ts";
import {
  applyKeyUpdate,
  credentialsPath,
  type KeyUpdate,
  maskedView,
  maskKey,
  readCredentialsSync,
  type StoredCredentials,
  type UpdateNotes,
  writeCredentialsSync,
} from "./credentials.ts";
import { type CliIO, EXIT, style, UsageError } from "./io.ts";
import { DeviceFlowError, signInToGithub } from "./github_device_flow.ts";
import { InputCancelled, readSecret } from "./secret_input.ts";
import { replaceArrayOfTables, setTopLevelKeys, type TomlScalar } from "./toml_edit.ts";

/** Help for `isartor set-key`. */
export const usage = `isartor set-key -p PROVIDER [options]

Stores a provider's API key in <data_dir>/credentials (mode 0600), so the
gateway and every command find it without exported variables. The key is read
without echo on a terminal, or from stdin when piped.

Options:
  -p, --provider P   the provider: ${PROVIDER_NAMES.join(", ")}
  -k, --key KEY      the key on the command line (lands in your shell history; prefer the prompt or a pipe)
  -m, --model M      the model to use (default: the provider's default model)
      --url URL      the provider's base URL (required for openai_compatible and azure)
      --add          add the key to a key pool instead of replacing the key
      --label L      with --add: a name for the key (default: key-N)
      --priority N   with --add: a lower number is tried first (default: 1)
      --device       -p copilot: sign in on github.com with a code (GitHub's device flow)
      --to-config    write into isartor.toml instead of the credentials file
      --json         print the stored entry (keys masked) as JSON
  -h, --help         show this help

Examples:
  isartor set-key -p groq                          prompts for the key (hidden)
  echo "$GROQ_API_KEY" | isartor set-key -p groq    reads it from a pipe
  isartor set-key -p anthropic -m claude-sonnet-4-5
  isartor set-key -p openai --add --label backup --priority 2
  isartor set-key -p ollama -m llama3.2             local: no key needed
  isartor set-key -p copilot --device               your Copilot subscription (signs in to GitHub)
  isartor set-key -p openai_compatible --url http://localhost:8000/v1`;

function validUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

interface Parsed {
  update: Omit<KeyUpdate, "key">;
  key?: string;
  device: boolean;
  toConfig: boolean;
  json: boolean;
}

function parse(args: string[]): Parsed | null {
  const { values } = parseArgs({
    args,
    options: {
      provider: { type: "string", short: "p" },
      key: { type: "string", short: "k" },
      model: { type: "string", short: "m" },
      url: { type: "string" },
      add: { type: "boolean" },
      label: { type: "string" },
      priority: { type: "string" },
      "to-config": { type: "boolean" },
      device: { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) return null;
  const provider = values.provider;
  if (!provider) {
    throw new UsageError(`-p PROVIDER is required; one of: ${PROVIDER_NAMES.join(", ")}`);
  }
  if (!PROVIDERS[provider]) {
    throw new UsageError(
      `unknown provider "${provider}"; use one of: ${PROVIDER_NAMES.join(", ")}`,
    );
  }
  if (values.url !== undefined && !validUrl(values.url)) {
    throw new UsageError(`--url must be an http(s) URL like "https://api.example.com/v1"`);
  }
  if (!values.add && (values.label !== undefined || values.priority !== undefined)) {
    throw new UsageError("--label and --priority go with --add");
  }
  if (values.device && PROVIDERS[provider].auth !== "copilot") {
    throw new UsageError("--device signs in to GitHub: it is for -p copilot");
  }
  if (values.device && values.key !== undefined) {
    throw new UsageError("--device and -k both give the key: use one");
  }
  let priority = 1;
  if (values.priority !== undefined) {
    if (!/^\d+$/.test(values.priority)) {
      throw new UsageError(`--priority must be a whole number >= 0, got "${values.priority}"`);
    }
    priority = Number(values.priority);
  }
  return {
    update: {
      provider,
      model: values.model,
      url: values.url === undefined ? undefined : values.url.replace(/\/+$/, ""),
      add: values.add ? { label: values.label ?? "", priority } : undefined,
    },
    key: values.key,
    device: values.device ?? false,
    toConfig: values["to-config"] ?? false,
    json: values.json ?? false,
  };
}

/** The config file `--to-config` writes: the one in use, else the user's. */
export function configTarget(file: string | null): string {
  if (file) return file;
  const candidates = configFileCandidates({ cwd: Deno.cwd(), home: homeDir(), env: isartorEnv() });
  return candidates[candidates.length - 1];
}

export function readTextOrEmpty(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "";
    throw e;
  }
}

const STORED_KEYS = [
  "llm_provider",
  "external_llm_model",
  "external_llm_api_key",
  "external_llm_url",
] as const;

/** Writes the update into an isartor.toml, keeping its comments. */
function writeToConfig(path: string, update: KeyUpdate): {
  values: StoredCredentials;
  notes: UpdateNotes;
} {
  const before = readTextOrEmpty(path);
  const current = parseToml(before) as StoredCredentials;
  const { values, notes } = applyKeyUpdate(current, update);
  const scalars: Record<string, TomlScalar> = {};
  for (const k of STORED_KEYS) {
    const v = values[k];
    if (v !== current[k]) scalars[k] = typeof v === "string" ? v : "";
  }
  let text = setTopLevelKeys(before, scalars);
  const pool = Array.isArray(values.provider_keys) ? values.provider_keys : [];
  if (JSON.stringify(pool) !== JSON.stringify(current.provider_keys ?? [])) {
    text = replaceArrayOfTables(text, "provider_keys", pool);
  }
  const check = parseToml(text) as StoredCredentials;
  for (const k of STORED_KEYS) {
    if ((check[k] ?? "") !== (values[k] ?? "")) {
      throw new Error(
        `could not edit ${path} safely (${k}); fix: store the key with \`isartor set-key\` without --to-config, or edit the file by hand`,
      );
    }
  }
  const dir = path.slice(0, Math.max(path.lastIndexOf("/"), 0)) || ".";
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  Deno.writeTextFileSync(path, text, { mode: 0o600 });
  try {
    Deno.chmodSync(path, 0o600);
  } catch { /* not supported on this platform */ }
  return { values, notes };
}

/** Runs `isartor set-key`. */
export async function runSetKey(
  args: string[],
  io: CliIO,
  readKey: (prompt: string) => Promise<string> = readSecret,
): Promise<number> {
  const parsed = parse(args);
  if (parsed === null) {
    io.out(usage);
    return EXIT.ok;
  }
  const { update, toConfig, json } = parsed;
  const spec = PROVIDERS[update.provider];
  const loaded = loadCliConfig({}, { warn: io.err });
  const stored = readCredentialsSync(credentialsPath(loaded.config.data_dir)) ?? {};
  const same = loaded.config.llm_provider === update.provider;
  const sameUrl = same && loaded.config.external_llm_url;
  if (!spec.baseUrl && update.url === undefined && !sameUrl) {
    throw new UsageError(
      `provider "${update.provider}" has no default URL; add --url (e.g. --url ${
        update.provider === "azure"
          ? "https://myresource.openai.azure.com"
          : "http://localhost:8000/v1"
      })`,
    );
  }

  let key: string | null = parsed.key ?? null;
  if (parsed.device) {
    try {
      key = await signInToGithub(io.err, loaded.config.copilot_github_url);
    } catch (e) {
      if (!(e instanceof DeviceFlowError)) throw e;
      io.err(style(io, `isartor set-key: ${e.message}`, "red"));
      return EXIT.failure;
    }
  } else if (key !== null) {
    io.err(
      style(
        io,
        "warning: a key given with -k lands in your shell history; next time use the prompt or a pipe",
        "yellow",
      ),
    );
  } else if (!spec.local) {
    try {
      key = await readKey(`${spec.label} API key (input hidden): `);
    } catch (e) {
      if (e instanceof InputCancelled) {
        io.err(`isartor set-key: ${e.message}; nothing was stored`);
        return EXIT.failure;
      }
      throw e;
    }
    if (!key) {
      throw new UsageError(
        `no key given; type it at the prompt in a terminal, or pipe it: echo "$KEY" | isartor set-key -p ${update.provider}`,
      );
    }
  }
  if (key !== null && /\s/.test(key)) {
    throw new UsageError("the key contains whitespace; paste only the key itself");
  }
  if (update.add && key === null) {
    throw new UsageError(`--add needs a key; ${spec.label} runs locally without one`);
  }
  if (update.add && !update.add.label) {
    const held = loaded.config.provider_keys.length || (loaded.config.external_llm_api_key ? 1 : 0);
    update.add.label = `key-${(same ? held : 0) + 1}`;
  }

  const full: KeyUpdate = { ...update, key };
  let where: string;
  let result: { values: StoredCredentials; notes: UpdateNotes };
  if (toConfig) {
    where = configTarget(loaded.file);
    result = writeToConfig(where, full);
  } else {
    where = credentialsPath(loaded.config.data_dir);
    result = applyKeyUpdate(stored, full);
    writeCredentialsSync(where, result.values);
  }
  report(io, { where, toConfig, json, key, values: result.values, notes: result.notes });
  for (const line of shadowed(result.values)) io.err(style(io, line, "yellow"));
  return EXIT.ok;
}

/** The keys in a pool, or the single key: what the gateway would use. */
function keysOf(pool: unknown, single: unknown): string {
  const keys = Array.isArray(pool) ? pool.map((k) => String(k?.key)) : [];
  return JSON.stringify(keys.length ? keys : single ? [single] : []);
}

/** Warnings for stored values that a higher layer (isartor.toml, environment) overrides. */
function shadowed(values: StoredCredentials): string[] {
  const after = loadCliConfig({}, { warn: () => {} });
  const cfg = after.config as unknown as Record<string, unknown>;
  const env = isartorEnv();
  const source = (k: string) =>
    env[`ISARTOR__${k.toUpperCase()}`] !== undefined
      ? `the environment variable ISARTOR__${k.toUpperCase()}`
      : after.file ?? "the configuration";
  const out: string[] = [];
  for (const k of ["llm_provider", "external_llm_model", "external_llm_url"]) {
    if ((values[k] ?? "") !== cfg[k]) {
      out.push(`warning: ${k} is overridden by ${source(k)} (${JSON.stringify(cfg[k])})`);
    }
  }
  const want = keysOf(values.provider_keys, values.external_llm_api_key);
  if (want !== keysOf(cfg.provider_keys, cfg.external_llm_api_key)) {
    const k = after.config.provider_keys.length ? "provider_keys" : "external_llm_api_key";
    out.push(`warning: the key is overridden by ${source(k)}`);
  }
  if (out.length) {
    out.push(
      "fix: remove those settings there (the stored credentials sit below isartor.toml and ISARTOR__ variables), or use --to-config",
    );
  }
  return out;
}

function report(io: CliIO, r: {
  where: string;
  toConfig: boolean;
  json: boolean;
  key: string | null;
  values: StoredCredentials;
  notes: UpdateNotes;
}): void {
  const v = r.values;
  const provider = String(v.llm_provider);
  const spec = PROVIDERS[provider];
  const url = typeof v.external_llm_url === "string" && v.external_llm_url
    ? v.external_llm_url
    : spec.baseUrl;
  const pool = Array.isArray(v.provider_keys) ? v.provider_keys.length : 0;
  if (r.json) {
    io.out(JSON.stringify(
      {
        stored_in: r.where,
        provider,
        model: v.external_llm_model ?? "",
        url,
        key: r.key === null ? null : maskKey(r.key),
        pool_size: pool,
        entry: maskedView(v),
      },
      null,
      2,
    ));
    return;
  }
  const keyText = r.key === null ? "none (local provider)" : maskKey(r.key);
  io.out(`${style(io, "✓", "green")} stored ${spec.label} in ${r.where}`);
  io.out(`  provider:  ${provider}`);
  io.out(`  model:     ${v.external_llm_model || "(the client's)"}`);
  io.out(`  endpoint:  ${url}${v.external_llm_url ? "" : " (default)"}`);
  io.out(`  key:       ${keyText}${pool ? ` (pool of ${pool} keys)` : ""}`);
  if (r.notes.switchedFrom) io.out(`  note:      replaced the ${r.notes.switchedFrom} settings`);
  if (r.notes.droppedPoolSize) {
    io.out(
      `  note:      replaced a pool of ${r.notes.droppedPoolSize} keys (use --add to keep a pool)`,
    );
  }
  if (r.notes.movedKeyToPool) {
    io.out('  note:      the previous key is now in the pool as "default"');
  }
  if (r.toConfig) {
    io.err(
      style(io, `warning: ${r.where} now holds a key: keep it out of version control`, "yellow"),
    );
  }
  io.out(`next: ${style(io, "isartor check", "bold")}   (tests the key with one cheap request)`);
}
