/**
 * Stored credentials: `<data_dir>/credentials`, a JSON object of config values
 * (`llm_provider`, `external_llm_model`, `external_llm_api_key`,
 * `provider_keys`, `external_llm_url`) written by `isartor set-key` and layered
 * between the defaults and `isartor.toml`. The file is 0600 in a 0700 directory.
 *
 * @module
 */

import { ConfigError } from "../src/config/load.ts";
import type { ProviderKey } from "../src/config/schema.ts";
import { PROVIDERS } from "../src/providers/table.ts";
import { chmodQuiet, dirOf, writeAtomic } from "./fs_atomic.ts";

/** The stored values: a subset of the configuration keys. */
export type StoredCredentials = Record<string, unknown>;

/** The credentials file of a data directory. */
export function credentialsPath(dataDir: string): string {
  return `${dataDir.replace(/[\\/]+$/, "")}/credentials`;
}

/**
 * Reads the credentials file; null when it does not exist.
 * Throws a ConfigError that says how to recover when it is not a JSON object.
 */
export function readCredentialsSync(path: string): StoredCredentials | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new ConfigError(
      `config error: cannot read ${path}: ${
        (e as Error).message
      }; fix: check its permissions (chmod 600 ${path})`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(
      `config error: ${path} is not a JSON object; fix: delete it and run \`isartor set-key -p <provider>\` again`,
    );
  }
  return value as StoredCredentials;
}

/**
 * Warnings for a credentials file (or its directory) readable by others:
 * the file should be 0600 and its directory 0700. Empty on Windows.
 */
export function permissionWarnings(path: string): string[] {
  const out: string[] = [];
  const check = (p: string, want: number, what: string) => {
    let mode: number | null = null;
    try {
      mode = Deno.statSync(p).mode;
    } catch {
      return;
    }
    if (mode === null || (mode & 0o077) === 0) return;
    const have = (mode & 0o777).toString(8).padStart(3, "0");
    out.push(
      `warning: ${what} ${p} has mode ${have}, readable by other users; fix: chmod ${
        want.toString(8)
      } ${p}`,
    );
  };
  check(dirOf(path), 0o700, "the credentials directory");
  check(path, 0o600, "the credentials file");
  return out;
}

/**
 * Writes the credentials file atomically: the directory is created 0700, the
 * file is written 0600 beside it and renamed into place.
 */
export function writeCredentialsSync(path: string, values: StoredCredentials): void {
  const dir = dirOf(path);
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodQuiet(dir, 0o700);
  writeAtomic(path, `${JSON.stringify(values, null, 2)}\n`, 0o600);
}

/**
 * Masks a key for display: its prefix, an ellipsis and its last four characters.
 *
 * @example
 * ```ts
 * maskKey("gsk_0123456789abcdef3a9"); // "gsk_…f3a9"
 * ```
 */
export function maskKey(key: string): string {
  if (key === "") return "";
  if (key.length < 12) return "****";
  const prefix = key.match(/^[A-Za-z]{1,6}[-_]/)?.[0] ?? "";
  return `${prefix}…${key.slice(-4)}`;
}

/** What `set-key` was asked to store. */
export interface KeyUpdate {
  provider: string;
  /** The key, or null for a local provider without one. */
  key: string | null;
  /** `-m`, when given. */
  model?: string;
  /** `--url`, when given. */
  url?: string;
  /** `--add`: append the key to the key pool instead of replacing the key. */
  add?: { label: string; priority: number };
}

/** What applying an update changed, for the confirmation. */
export interface UpdateNotes {
  /** The provider changed, so the old key, pool and URL were dropped. */
  switchedFrom: string | null;
  /** A key pool was replaced by a single key. */
  droppedPoolSize: number;
  /** The single key moved into the new pool. */
  movedKeyToPool: boolean;
}

function poolOf(values: StoredCredentials): ProviderKey[] {
  const raw = values.provider_keys;
  return Array.isArray(raw) ? raw.filter((k) => typeof k?.key === "string") as ProviderKey[] : [];
}

/**
 * Applies a `set-key` update to stored values (credentials file or config
 * file values) and returns the new values. Switching provider drops the old
 * provider's key, pool and URL; `--add` builds a pool (moving an existing
 * single key into it); the model is the one given, else the one stored for the
 * same provider, else the provider's default.
 */
export function applyKeyUpdate(
  current: StoredCredentials,
  update: KeyUpdate,
): { values: StoredCredentials; notes: UpdateNotes } {
  const spec = PROVIDERS[update.provider];
  const previous = typeof current.llm_provider === "string" ? current.llm_provider : null;
  const same = previous === update.provider;
  const next: StoredCredentials = { ...current, llm_provider: update.provider };
  const notes: UpdateNotes = {
    switchedFrom: previous && !same ? previous : null,
    droppedPoolSize: 0,
    movedKeyToPool: false,
  };
  if (!same) {
    delete next.external_llm_api_key;
    delete next.provider_keys;
    delete next.external_llm_url;
    delete next.external_llm_model;
  }
  const storedModel = typeof next.external_llm_model === "string" ? next.external_llm_model : "";
  next.external_llm_model = update.model ?? (storedModel || spec.defaultModel);
  if (update.url !== undefined) next.external_llm_url = update.url;
  if (update.add && update.key !== null) {
    const pool = poolOf(next);
    const single = typeof next.external_llm_api_key === "string" ? next.external_llm_api_key : "";
    if (pool.length === 0 && single && single !== update.key) {
      pool.push({ key: single, label: "default", priority: 1 });
      notes.movedKeyToPool = true;
    }
    const entry = { key: update.key, label: update.add.label, priority: update.add.priority };
    const at = pool.findIndex((k) => k.key === update.key);
    if (at >= 0) pool[at] = entry;
    else pool.push(entry);
    next.provider_keys = pool;
    delete next.external_llm_api_key;
  } else {
    notes.droppedPoolSize = poolOf(next).length;
    delete next.provider_keys;
    if (update.key !== null) next.external_llm_api_key = update.key;
    else delete next.external_llm_api_key;
  }
  return { values: next, notes };
}

/** The stored values with every key masked, for display and `--json`. */
export function maskedView(values: StoredCredentials): Record<string, unknown> {
  const out: Record<string, unknown> = { ...values };
  if (typeof out.external_llm_api_key === "string") {
    out.external_llm_api_key = maskKey(out.external_llm_api_key);
  }
  if (Array.isArray(out.provider_keys)) {
    out.provider_keys = poolOf(values).map((k) => ({ ...k, key: maskKey(k.key) }));
  }
  return out;
}
