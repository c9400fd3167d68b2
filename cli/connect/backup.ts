/**
 * Backups and undo for `isartor connect`: before a tool's file is first
 * changed, its bytes are copied to `<data_dir>/connect/backups/<tool>/`, and a
 * manifest (`<data_dir>/connect/<tool>.json`, 0600) records what we wrote.
 * `--disconnect` puts the backup back byte for byte when the file is still
 * exactly as we left it; when the user changed it since, only our entries are
 * taken out (their previous values restored).
 *
 * @module
 */

import {
  applySettings,
  type FileSpec,
  pathKey,
  type Previous,
  removeSettings,
  snapshot,
} from "./edit.ts";
import { chmodQuiet, dirOf, writeAtomic } from "../fs_atomic.ts";

/** What we know about one file we changed. */
export interface FileRecord {
  path: string;
  label: string;
  format: FileSpec["format"];
  root?: FileSpec["root"];
  /** Whether the file existed before the first connect. */
  existed: boolean;
  /** Its permission bits before (null on Windows or when new). */
  mode: number | null;
  /** The copy of its bytes before the first connect. */
  backup: string | null;
  /** The directories we created for it, outermost first. */
  createdDirs: string[];
  /** SHA-256 of the bytes we last wrote. */
  writtenSha256: string;
  /** The settings we own in it (what we wrote). */
  settings: FileSpec["settings"];
  /** What was at each of those paths before. */
  previous: Previous[];
}

/** The manifest of one connected tool. */
export interface ConnectManifest {
  tool: string;
  gatewayUrl: string;
  connectedAt: string;
  files: FileRecord[];
}

/** One file's planned change. */
export interface PlannedChange {
  spec: FileSpec;
  /** Its text now, or null when it does not exist. */
  before: string | null;
  after: string;
}

function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
}

function readOrNull(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The manifest path of a tool. */
export function manifestPath(stateDir: string, tool: string): string {
  return `${stateDir}/${tool}.json`;
}

/** Reads a tool's manifest; null when the tool is not connected. */
export function readManifest(stateDir: string, tool: string): ConnectManifest | null {
  const text = readOrNull(manifestPath(stateDir, tool));
  return text === null ? null : JSON.parse(text) as ConnectManifest;
}

function writeManifest(stateDir: string, m: ConnectManifest): void {
  Deno.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeAtomic(manifestPath(stateDir, m.tool), `${JSON.stringify(m, null, 2)}\n`, 0o600);
}

/** The new text of every file, without writing anything. */
export function planChanges(specs: FileSpec[]): PlannedChange[] {
  return specs.map((spec) => {
    const before = readOrNull(spec.path);
    return { spec, before, after: applySettings(before ?? "", spec) };
  });
}

/** What applying changed. */
export interface ApplyReport {
  changed: string[];
  unchanged: string[];
  backups: string[];
}

/**
 * Writes the planned files: a backup first (once, at the first connect),
 * then the new text (0600 when it holds a secret), then the manifest.
 */
export async function applyChanges(
  stateDir: string,
  tool: string,
  gatewayUrl: string,
  changes: PlannedChange[],
): Promise<ApplyReport> {
  const old = readManifest(stateDir, tool);
  const records: FileRecord[] = [];
  const report: ApplyReport = { changed: [], unchanged: [], backups: [] };
  for (const [i, c] of changes.entries()) {
    const prior = old?.files.find((f) => f.path === c.spec.path);
    let record: FileRecord;
    if (prior) {
      // Keep the first backup and the first "before" values; add new paths.
      const known = new Set(prior.previous.map((p) => pathKey(p.path)));
      const fresh = snapshot(c.before ?? "", c.spec).filter((p) => !known.has(pathKey(p.path)));
      record = { ...prior, settings: c.spec.settings, previous: [...prior.previous, ...fresh] };
    } else {
      let mode: number | null = null;
      let backup: string | null = null;
      if (c.before !== null) {
        mode = Deno.statSync(c.spec.path).mode;
        mode = mode === null ? null : mode & 0o777;
        const dir = `${stateDir}/backups/${tool}`;
        Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
        backup = `${dir}/${i}-${baseName(c.spec.path)}`;
        Deno.copyFileSync(c.spec.path, backup);
        chmodQuiet(backup, 0o600);
        report.backups.push(backup);
      }
      const createdDirs: string[] = [];
      for (let d = dirOf(c.spec.path); !exists(d); d = dirOf(d)) createdDirs.unshift(d);
      record = {
        path: c.spec.path,
        label: c.spec.label,
        format: c.spec.format,
        root: c.spec.root,
        existed: c.before !== null,
        mode,
        backup,
        createdDirs,
        writtenSha256: "",
        settings: c.spec.settings,
        previous: snapshot(c.before ?? "", c.spec),
      };
    }
    if (c.after === c.before) {
      report.unchanged.push(c.spec.path);
    } else {
      // A directory we create for a file holding a secret is the owner's alone.
      Deno.mkdirSync(
        dirOf(c.spec.path),
        c.spec.secret ? { recursive: true, mode: 0o700 } : { recursive: true },
      );
      const keep = record.mode ?? null;
      writeAtomic(c.spec.path, c.after, c.spec.secret ? 0o600 : keep);
      report.changed.push(c.spec.path);
    }
    record.writtenSha256 = await sha256(c.after);
    records.push(record);
  }
  // Files of an earlier connect that this one no longer writes stay recorded.
  for (const f of old?.files ?? []) {
    if (!records.some((r) => r.path === f.path)) records.push(f);
  }
  writeManifest(stateDir, {
    tool,
    gatewayUrl,
    connectedAt: old?.connectedAt ?? new Date().toISOString(),
    files: records,
  });
  return report;
}

/** What undoing did to one file. */
export interface UndoStep {
  path: string;
  action: "restored" | "removed" | "entries-removed" | "already-gone" | "unchanged";
}

/** What undoing would write: the file's new text (null: delete it). */
export async function planUndo(
  record: FileRecord,
): Promise<{ action: UndoStep["action"]; text: string | null; current: string | null }> {
  const current = readOrNull(record.path);
  if (current === null) return { action: "already-gone", text: null, current };
  if (await sha256(current) === record.writtenSha256) {
    if (!record.existed) return { action: "removed", text: null, current };
    return { action: "restored", text: Deno.readTextFileSync(record.backup!), current };
  }
  const spec: FileSpec = {
    path: record.path,
    format: record.format,
    settings: record.settings,
    root: record.root,
    label: record.label,
  };
  const text = removeSettings(current, spec, record.previous);
  return { action: text === current ? "unchanged" : "entries-removed", text, current };
}

/** Undoes a tool's connect; returns what happened to each file. */
export async function undoChanges(stateDir: string, tool: string): Promise<UndoStep[] | null> {
  const m = readManifest(stateDir, tool);
  if (!m) return null;
  const steps: UndoStep[] = [];
  for (const record of m.files) {
    const plan = await planUndo(record);
    if (plan.action === "restored") {
      // The backup's bytes, not its text: byte-identical.
      writeAtomic(record.path, { copyOf: record.backup! }, record.mode);
    } else if (plan.action === "removed") {
      Deno.removeSync(record.path);
      for (const d of [...record.createdDirs].reverse()) {
        try {
          Deno.removeSync(d); // only when empty
        } catch { /* the tool wrote more there since */ }
      }
    } else if (plan.action === "entries-removed") {
      writeAtomic(record.path, plan.text!, null);
    }
    steps.push({ path: record.path, action: plan.action });
  }
  for (const record of m.files) {
    if (record.backup) {
      try {
        Deno.removeSync(record.backup);
      } catch { /* already gone */ }
    }
  }
  Deno.removeSync(manifestPath(stateDir, tool));
  return steps;
}
