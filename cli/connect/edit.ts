/**
 * Layout-keeping edits of the tools' own config files: JSON with comments
 * (jsonc-parser's `modify`, which rewrites only the touched range, so the
 * user's comments, order and indentation stay), TOML (line edits of
 * top-level keys and whole `[tables]`, see ../toml_edit.ts) and dotenv files
 * (one `NAME=value` line each).
 *
 * A tool describes what it owns in a file as a list of settings (a path and a
 * value); this module sets them, reads them back and removes them again.
 *
 * @module
 */

import {
  applyEdits,
  findNodeAtLocation,
  type FormattingOptions,
  getNodeValue,
  type JSONPath,
  modify,
  type ParseError,
  parseTree,
  printParseErrorCode,
} from "jsonc-parser";
import { parse as parseToml } from "smol-toml";
import {
  removeTable,
  removeTableKey,
  removeTopLevelKey,
  setTable,
  setTableKey,
  setTopLevelKeys,
  type TomlScalar,
} from "../toml_edit.ts";

/** The file formats `connect` edits. */
export type FileFormat = "jsonc" | "toml" | "dotenv";

/**
 * One step of a setting's path: an object key, an array index, or the array
 * element whose property `where` equals `is` (appended when there is none).
 */
export type PathSegment = string | number | { where: string; is: string };

/** One value a tool owns in a file; `undefined` means "absent while connected". */
export interface Setting {
  path: PathSegment[];
  value?: unknown;
}

/** A file a tool writes, and what it owns in it. */
export interface FileSpec {
  /** Absolute path. */
  path: string;
  format: FileFormat;
  settings: Setting[];
  /** The secret written into it, if any: the file is then 0600 and output masks it. */
  secret?: string;
  /** For JSON files: the root a new file starts with (default an object). */
  root?: "object" | "array";
  /** What the file is, for the user ("Claude Code settings"). */
  label: string;
  /** For dotenv files: write `export NAME=value` lines (a file to `source`). */
  exportLines?: boolean;
}

/** A file `connect` cannot edit safely, with what to do instead. */
export class EditError extends Error {}

/** A stable text key of a path, for manifests. */
export function pathKey(path: PathSegment[]): string {
  return JSON.stringify(path);
}

function formatting(text: string): FormattingOptions {
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const indent = text.match(/^([ \t]+)\S/m)?.[1] ?? "  ";
  return indent.startsWith("\t")
    ? { insertSpaces: false, tabSize: 1, eol }
    : { insertSpaces: true, tabSize: indent.length, eol };
}

function parseJsonc(text: string, where: string) {
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length) {
    const e = errors[0];
    const line = text.slice(0, e.offset).split("\n").length;
    throw new EditError(
      `${where}: ${
        printParseErrorCode(e.error)
      } at line ${line}; isartor edits JSON with comments ` +
        `and trailing commas, nothing else; fix the file, or add the entries by hand (see --show-config)`,
    );
  }
  return tree;
}

/** Turns `{ where, is }` segments into indexes; `append` marks a new element. */
function resolveJsonPath(
  text: string,
  path: PathSegment[],
  where: string,
): { path: JSONPath; append: boolean } {
  const tree = text.trim() ? parseJsonc(text, where) : undefined;
  const out: JSONPath = [];
  for (const seg of path) {
    if (typeof seg !== "object") {
      out.push(seg);
      continue;
    }
    const node = tree ? findNodeAtLocation(tree, out) : undefined;
    const items = node?.type === "array" ? node.children ?? [] : [];
    const at = items.findIndex((child) => {
      const v = getNodeValue(child);
      return typeof v === "object" && v !== null && v[seg.where] === seg.is;
    });
    if (at >= 0) {
      out.push(at);
      continue;
    }
    out.push(items.length);
    return { path: out, append: true };
  }
  return { path: out, append: false };
}

function dotenvQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+,-]*$/.test(value) ? value : JSON.stringify(value);
}

function dotenvLine(name: string): RegExp {
  return new RegExp(`^\\s*(export\\s+)?${name}\\s*=`);
}

function dotenvUnquote(raw: string): string {
  const v = raw.trim();
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) {
    try {
      return JSON.parse(v);
    } catch {
      return v.slice(1, -1);
    }
  }
  if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) return v.slice(1, -1);
  return v.replace(/\s+#.*$/, "");
}

function setDotenv(
  text: string,
  name: string,
  value: string | undefined,
  exportLines = false,
): string {
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text === "" ? [] : text.replace(/\r?\n$/, "").split(/\r?\n/);
  const at = lines.findIndex((l) => dotenvLine(name).test(l));
  if (value === undefined) {
    if (at >= 0) lines.splice(at, 1);
  } else {
    const line = `${exportLines ? "export " : ""}${name}=${dotenvQuote(value)}`;
    if (at >= 0) lines[at] = line;
    else lines.push(line);
  }
  return lines.length ? `${lines.join(eol)}${eol}` : "";
}

function tomlParse(text: string, where: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (e) {
    throw new EditError(
      `${where}: not valid TOML (${(e as Error).message.split("\n")[0]}); fix the file first`,
    );
  }
}

function tomlHeader(path: PathSegment[]): string {
  return path.map((s) => {
    const k = String(s);
    return /^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k);
  }).join(".");
}

/** The value at a path, or undefined when there is none. */
export function readSetting(text: string, spec: FileSpec, path: PathSegment[]): unknown {
  if (text.trim() === "") return undefined;
  switch (spec.format) {
    case "jsonc": {
      const tree = parseJsonc(text, spec.path);
      const resolved = resolveJsonPath(text, path, spec.path);
      if (resolved.append || !tree) return undefined;
      const node = findNodeAtLocation(tree, resolved.path);
      return node ? getNodeValue(node) : undefined;
    }
    case "toml": {
      let v: unknown = tomlParse(text, spec.path);
      for (const seg of path) {
        if (typeof v !== "object" || v === null) return undefined;
        v = (v as Record<string, unknown>)[String(seg)];
      }
      return v;
    }
    case "dotenv": {
      const name = String(path[0]);
      const line = text.split(/\r?\n/).find((l) => dotenvLine(name).test(l));
      return line === undefined ? undefined : dotenvUnquote(line.slice(line.indexOf("=") + 1));
    }
  }
}

/** How many leading segments of a path exist in a file (to know which parents we create). */
export function existingDepth(text: string, spec: FileSpec, path: PathSegment[]): number {
  for (let n = path.length; n > 0; n--) {
    if (readSetting(text, spec, path.slice(0, n)) !== undefined) return n;
  }
  return 0;
}

/** Sets (or with `undefined`, removes) one value. */
export function setSetting(
  text: string,
  spec: FileSpec,
  path: PathSegment[],
  value: unknown,
): string {
  switch (spec.format) {
    case "jsonc": {
      const base = text.trim() === "" ? (spec.root === "array" ? "[]\n" : "{}\n") : text;
      const resolved = resolveJsonPath(base, path, spec.path);
      if (value === undefined && resolved.append) return text;
      const edits = modify(base, resolved.path, value, {
        formattingOptions: formatting(base),
        isArrayInsertion: resolved.append,
      });
      return applyEdits(base, edits);
    }
    case "toml": {
      tomlParse(text, spec.path);
      // A path names a table when its value is one (or, when removing, holds one now);
      // else it is a `key = value` line at the top level or in its parent table.
      const now = value === undefined ? readSetting(text, spec, path) : value;
      const isTable = typeof now === "object" && now !== null;
      if (isTable) {
        const header = tomlHeader(path);
        return value === undefined
          ? removeTable(text, header)
          : setTable(text, header, value as Record<string, TomlScalar>);
      }
      const key = String(path[path.length - 1]);
      if (path.length === 1) {
        return value === undefined
          ? removeTopLevelKey(text, key)
          : setTopLevelKeys(text, { [key]: value as TomlScalar }, { fillCommented: false });
      }
      const table = tomlHeader(path.slice(0, -1));
      return value === undefined
        ? removeTableKey(text, table, key)
        : setTableKey(text, table, key, value as TomlScalar);
    }
    case "dotenv":
      return setDotenv(
        text,
        String(path[0]),
        value === undefined ? undefined : String(value),
        spec.exportLines,
      );
  }
}

/** Writes every setting of a file spec into its text. */
export function applySettings(text: string, spec: FileSpec): string {
  let out = text;
  for (const s of spec.settings) {
    if (sameValue(readSetting(out, spec, s.path), s.value)) continue;
    out = setSetting(out, spec, s.path, s.value);
  }
  return out;
}

/** What was there before `connect` set a path. */
export interface Previous {
  path: PathSegment[];
  /** The value before, or undefined when the path did not exist. */
  value?: unknown;
  /** How many leading path segments existed before. */
  depth: number;
}

/** Records what a file holds at each of the spec's paths, before they are set. */
export function snapshot(text: string, spec: FileSpec): Previous[] {
  return spec.settings.map((s) => ({
    path: s.path,
    value: readSetting(text, spec, s.path),
    depth: existingDepth(text, spec, s.path),
  }));
}

/**
 * Undoes our settings in a file the user changed since: each path gets its
 * previous value back, or is removed with the parents we created when they
 * are left empty. Values the user changed after us are kept.
 */
export function removeSettings(text: string, spec: FileSpec, previous: Previous[]): string {
  let out = text;
  for (const s of spec.settings) {
    const prev = previous.find((p) => pathKey(p.path) === pathKey(s.path));
    const now = readSetting(out, spec, s.path);
    if (!sameValue(now, s.value)) continue; // the user changed it since: theirs
    if (prev && prev.value !== undefined) {
      out = setSetting(out, spec, s.path, prev.value);
      continue;
    }
    if (now === undefined) continue;
    out = setSetting(out, spec, s.path, undefined);
    // Parents we created, now empty, go too.
    const keep = prev?.depth ?? 0;
    for (let n = s.path.length - 1; n > keep && n > 0; n--) {
      const parent = readSetting(out, spec, s.path.slice(0, n));
      const empty = (Array.isArray(parent) && parent.length === 0) ||
        (typeof parent === "object" && parent !== null && Object.keys(parent).length === 0);
      if (!empty) break;
      out = setSetting(out, spec, s.path.slice(0, n), undefined);
    }
  }
  return out;
}

/** Whether every setting of a spec holds our value in a text. */
export function holdsSettings(text: string, spec: FileSpec): boolean {
  return spec.settings.every((s) => sameValue(readSetting(text, spec, s.path), s.value));
}

/** Deep equality of JSON-like values. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
  );
}
