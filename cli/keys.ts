/**
 * `isartor keys add|list|revoke`: per-tenant gateway keys (`[[gateway_keys]]`
 * in isartor.toml). A new key is printed once; only its SHA-256 is stored.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parse } from "smol-toml";
import { loadConfig } from "../src/config/load.ts";
import { GatewayKeySchema } from "../src/config/schema.ts";
import { hashGatewayKey, keyId, newGatewayKey } from "../src/http/gateway_keys.ts";
import { homeDir, isartorEnv, loadCliConfig } from "./config.ts";
import { type CliIO, EXIT, style, UsageError } from "./io.ts";
import { configTarget, readTextOrEmpty } from "./set_key.ts";
import { replaceArrayOfTables, type TomlScalar } from "./toml_edit.ts";

export const usage = `isartor keys add --tenant NAME [--label TEXT] [--trusted-proxy]
                 [--requests N] [--tokens N] [--window SECS] [--json]
isartor keys list [--json]
isartor keys revoke ID|LABEL

Per-tenant gateway keys ([[gateway_keys]] in isartor.toml). A call made with
a key is in the key's tenant: its own exact and semantic cache entries, its
own stats and cache admin API. Only a key added with --trusted-proxy may name
another tenant in tenant_header. The key is printed once; isartor.toml keeps
its SHA-256 only. A running gateway reads the keys at its next start.

Options (add):
  --tenant NAME       the tenant (letters, digits, . _ : @ -); required
  --label TEXT        a name for the list (who holds the key)
  --trusted-proxy     the key belongs to a proxy that names tenants in tenant_header
  --requests N        most model requests per window (quota; 0: none)
  --tokens N          most provider tokens (input + output) per window (0: none)
  --window SECS       the quota window in seconds (default 3600)
  --json              print {"key", "id", "tenant", "file"} (add) or the list

Over quota, a call gets 429 in its own protocol with Retry-After.

Examples:
  isartor keys add --tenant team-a --label "CI runner" --requests 1000 --window 3600
  isartor keys add --tenant edge --trusted-proxy --label nginx
  isartor keys list
  isartor keys revoke 3f9a1c2b7d10`;

type Row = Record<string, TomlScalar>;

function readRows(text: string): Row[] {
  if (!text) return [];
  const parsed = parse(text) as Record<string, unknown>;
  return Array.isArray(parsed.gateway_keys) ? parsed.gateway_keys as Row[] : [];
}

function writeRows(file: string, text: string, rows: Row[]): void {
  const next = replaceArrayOfTables(text, "gateway_keys", rows);
  // The edited file must still load: refuse rather than leave a broken config.
  loadConfig({
    cwd: Deno.cwd(),
    home: homeDir(),
    env: { ...isartorEnv(), ISARTOR_CONFIG: file },
    readTextFile: (p) => p === file ? next : null,
  });
  const dir = file.slice(0, Math.max(file.lastIndexOf("/"), 0));
  if (dir) Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(file, next, { mode: 0o600 });
  Deno.chmodSync(file, 0o600);
}

function count(name: string, v: string | undefined): number {
  if (v === undefined) return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number ≥ 0`);
  return n;
}

function quotaText(r: Row): string {
  const parts: string[] = [];
  if (Number(r.requests_per_window)) parts.push(`${r.requests_per_window} req`);
  if (Number(r.tokens_per_window)) parts.push(`${r.tokens_per_window} tok`);
  return parts.length ? `${parts.join(", ")} / ${r.window_secs ?? 3600}s` : "none";
}

/** Runs `isartor keys`. */
export function runKeys(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      tenant: { type: "string" },
      label: { type: "string" },
      "trusted-proxy": { type: "boolean" },
      requests: { type: "string" },
      tokens: { type: "string" },
      window: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
  const [action, target] = positionals;
  if (values.help || action === undefined) {
    io.out(usage);
    return Promise.resolve(values.help ? EXIT.ok : EXIT.usage);
  }
  const loaded = loadCliConfig({}, { warn: io.err });
  const file = configTarget(loaded.file);
  const text = readTextOrEmpty(file);
  const rows = readRows(text);
  if (action === "add") {
    if (!values.tenant) throw new UsageError("give the key's tenant: keys add --tenant team-a");
    const key = newGatewayKey();
    const row: Row = { key_sha256: hashGatewayKey(key), tenant: values.tenant };
    if (values.label) row.label = values.label;
    if (values["trusted-proxy"]) row.trusted_proxy = true;
    const requests = count("requests", values.requests);
    const tokens = count("tokens", values.tokens);
    if (requests) row.requests_per_window = requests;
    if (tokens) row.tokens_per_window = tokens;
    if (values.window !== undefined) {
      const w = count("window", values.window);
      if (!w) throw new UsageError("--window must be a positive number of seconds");
      row.window_secs = w;
    }
    row.created = new Date().toISOString();
    const checked = GatewayKeySchema.safeParse(row);
    if (!checked.success) {
      throw new UsageError(`--tenant "${values.tenant}": use 1-128 letters, digits or . _ : @ -`);
    }
    writeRows(file, text, [...rows, row]);
    const id = keyId(checked.data);
    if (values.json) {
      io.out(JSON.stringify({ key, id, tenant: values.tenant, label: row.label ?? "", file }));
    } else {
      io.out(key);
      io.err(
        style(io, `key ${id} for tenant ${values.tenant} added to ${file}`, "green") +
          "\nThis is the only time the key is shown: give it to its holder now " +
          "(clients send it as Authorization: Bearer <key> or x-api-key). Restart the gateway to use it.",
      );
    }
    return Promise.resolve(EXIT.ok);
  }
  if (action === "list") {
    const list = rows.map((r) => ({
      id: String(r.key_sha256 ?? "").slice(0, 12),
      tenant: String(r.tenant ?? ""),
      label: String(r.label ?? ""),
      trusted_proxy: r.trusted_proxy === true,
      requests_per_window: Number(r.requests_per_window ?? 0),
      tokens_per_window: Number(r.tokens_per_window ?? 0),
      window_secs: Number(r.window_secs ?? 3600),
      created: String(r.created ?? ""),
    }));
    if (values.json) io.out(JSON.stringify({ file, keys: list }));
    else if (list.length === 0) {
      io.out(`no gateway keys in ${file} (add one: isartor keys add --tenant NAME)`);
    } else {
      io.out(`gateway keys in ${file}:`);
      for (const [i, k] of list.entries()) {
        io.out(
          `  ${k.id}  tenant=${k.tenant}${k.label ? `  label=${JSON.stringify(k.label)}` : ""}` +
            `${k.trusted_proxy ? "  trusted-proxy" : ""}  quota=${quotaText(rows[i])}` +
            `${k.created ? `  created=${k.created.slice(0, 10)}` : ""}`,
        );
      }
    }
    return Promise.resolve(EXIT.ok);
  }
  if (action === "revoke") {
    if (!target) throw new UsageError("give the key's id or label: keys revoke 3f9a1c2b7d10");
    const matches = rows.filter((r) =>
      String(r.key_sha256 ?? "").startsWith(target.toLowerCase()) && target.length >= 6 ||
      r.label === target
    );
    if (matches.length === 0) {
      io.err(
        `isartor keys: no key with id or label "${target}" in ${file} (see: isartor keys list)`,
      );
      return Promise.resolve(EXIT.failure);
    }
    if (matches.length > 1) {
      io.err(
        `isartor keys: "${target}" matches ${matches.length} keys; give the id (isartor keys list)`,
      );
      return Promise.resolve(EXIT.failure);
    }
    writeRows(file, text, rows.filter((r) => r !== matches[0]));
    io.out(
      style(io, `revoked key ${String(matches[0].key_sha256).slice(0, 12)} (${file})`, "green") +
        "; restart the gateway for it to take effect",
    );
    return Promise.resolve(EXIT.ok);
  }
  throw new UsageError(`unknown keys action "${action}"; use add, list or revoke`);
}
