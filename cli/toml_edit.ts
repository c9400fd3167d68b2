/**
 * Small, layout-keeping edits of an `isartor.toml`: set top-level keys (in
 * place, or by filling in a commented-out `# key = ...` line of the scaffold)
 * and replace an array of tables. Comments and order are kept.
 *
 * @module
 */

import { stringify } from "smol-toml";

/** A TOML value this module writes. */
export type TomlScalar = string | number | boolean;

const HEADER = /^\s*\[/;

function keyLine(key: string): RegExp {
  return new RegExp(`^\\s*${key}\\s*=`);
}

function commentedKeyLine(key: string): RegExp {
  return new RegExp(`^\\s*#\\s*${key}\\s*=`);
}

/** One `key = value` line. */
export function tomlLine(key: string, value: unknown): string {
  return stringify({ [key]: value }).trim();
}

/**
 * Sets top-level keys: replaces `key = ...`, else fills in the first
 * commented-out `# key = ...` (unless `fillCommented` is false), else adds
 * the line before the first table.
 *
 * @example
 * ```ts
 * setTopLevelKeys('# llm_provider = "openai"\n', { llm_provider: "groq" });
 * // 'llm_provider = "groq"\n'
 * ```
 */
export function setTopLevelKeys(
  text: string,
  values: Record<string, TomlScalar>,
  options: { fillCommented?: boolean } = {},
): string {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  for (const [key, value] of Object.entries(values)) {
    let end = lines.findIndex((l) => HEADER.test(l));
    if (end < 0) end = lines.length;
    const line = tomlLine(key, value);
    const live = lines.slice(0, end).findIndex((l) => keyLine(key).test(l));
    if (live >= 0) {
      lines[live] = line;
      continue;
    }
    const commented = options.fillCommented === false
      ? -1
      : lines.slice(0, end).findIndex((l) => commentedKeyLine(key).test(l));
    if (commented >= 0) {
      lines[commented] = line;
      continue;
    }
    // Before the first table, after the last non-blank top-level line.
    let at = end;
    while (at > 0 && lines[at - 1].trim() === "") at--;
    lines.splice(at, 0, line);
  }
  return lines.length ? `${lines.join("\n")}\n` : "";
}

/**
 * Replaces every `[[name]]` block (and a top-level `name = ...` line) with the
 * given rows, appended at the end of the file.
 */
export function replaceArrayOfTables(
  text: string,
  name: string,
  rows: Record<string, TomlScalar>[],
): string {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const out: string[] = [];
  const block = new RegExp(`^\\s*\\[\\[\\s*${name}\\s*\\]\\]\\s*(#.*)?$`);
  let inBlock = false;
  let seenHeader = false;
  for (const line of lines) {
    if (HEADER.test(line)) {
      seenHeader = true;
      inBlock = block.test(line);
      if (inBlock) continue;
    }
    if (inBlock) continue;
    if (!seenHeader && keyLine(name).test(line)) continue;
    out.push(line);
  }
  while (out.length && out[out.length - 1].trim() === "") out.pop();
  for (const row of rows) {
    out.push("", `[[${name}]]`);
    for (const [k, v] of Object.entries(row)) out.push(tomlLine(k, v));
  }
  return out.length ? `${out.join("\n")}\n` : "";
}

function tableLine(header: string): RegExp {
  const name = header.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\\\./g, "\\s*\\.\\s*");
  return new RegExp(`^\\s*\\[\\s*${name}\\s*\\]\\s*(#.*)?$`);
}

/** The line range `[start, end)` of a `[header]` block, or null. Blank lines before the next table are left out. */
function tableRange(lines: string[], header: string): [number, number] | null {
  const start = lines.findIndex((l) => tableLine(header).test(l));
  if (start < 0) return null;
  let end = start + 1;
  while (end < lines.length && !HEADER.test(lines[end])) end++;
  while (end > start + 1 && lines[end - 1].trim() === "") end--;
  return [start, end];
}

/**
 * Sets a `[header]` table to exactly the given keys: replaced in place when it
 * exists (comments elsewhere are kept), else appended at the end.
 *
 * @example
 * ```ts
 * setTable("", "model_providers.isartor", { name: "isartor" });
 * // '[model_providers.isartor]\nname = "isartor"\n'
 * ```
 */
export function setTable(
  text: string,
  header: string,
  values: Record<string, TomlScalar>,
): string {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const block = [`[${header}]`, ...Object.entries(values).map(([k, v]) => tomlLine(k, v))];
  const range = tableRange(lines, header);
  if (range) {
    lines.splice(range[0], range[1] - range[0], ...block);
  } else {
    while (lines.length && lines[lines.length - 1].trim() === "") lines.pop();
    if (lines.length) lines.push("");
    lines.push(...block);
  }
  return `${lines.join("\n")}\n`;
}

/** Removes a `[header]` block (and the blank line that separated it). */
export function removeTable(text: string, header: string): string {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const range = tableRange(lines, header);
  if (!range) return text;
  let [start, end] = range;
  if (start > 0 && lines[start - 1].trim() === "") start--;
  else if (end < lines.length && lines[end].trim() === "") end++;
  lines.splice(start, end - start);
  return lines.length ? `${lines.join("\n")}\n` : "";
}

/** Removes a top-level `key = ...` line (before the first table). */
export function removeTopLevelKey(text: string, key: string): string {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  let end = lines.findIndex((l) => HEADER.test(l));
  if (end < 0) end = lines.length;
  const at = lines.slice(0, end).findIndex((l) => keyLine(key).test(l));
  if (at < 0) return text;
  lines.splice(at, 1);
  return lines.length ? `${lines.join("\n")}\n` : "";
}

/**
 * Sets `key = value` inside the table `[table]`: replaces the key's line there,
 * else adds it at the end of the table, else appends the table. Other lines stay.
 *
 * @example
 * ```ts
 * setTableKey("", "model_aliases", "fast", "gpt-4o-mini");
 * // '[model_aliases]\nfast = "gpt-4o-mini"\n'
 * ```
 */
export function setTableKey(text: string, table: string, key: string, value: TomlScalar): string {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const header = new RegExp(`^\\s*\\[\\s*${table}\\s*\\]\\s*(#.*)?$`);
  const line = tomlLine(key, value);
  const start = lines.findIndex((l) => header.test(l));
  if (start < 0) {
    while (lines.length && lines[lines.length - 1].trim() === "") lines.pop();
    if (lines.length) lines.push("");
    lines.push(`[${table}]`, line);
    return `${lines.join("\n")}\n`;
  }
  let end = lines.findIndex((l, i) => i > start && HEADER.test(l));
  if (end < 0) end = lines.length;
  const quoted = line.slice(0, line.indexOf("=")).trim();
  const at = lines.slice(start + 1, end).findIndex((l) =>
    keyLine(key).test(l) || l.trim().startsWith(`${quoted} =`)
  );
  if (at >= 0) {
    lines[start + 1 + at] = line;
  } else {
    let insert = end;
    while (insert > start + 1 && lines[insert - 1].trim() === "") insert--;
    lines.splice(insert, 0, line);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Removes `key = ...` from inside `[table]` (other lines, comments included, stay). The table
 * itself stays, even when left empty (see {@linkcode removeTable}).
 */
export function removeTableKey(text: string, table: string, key: string): string {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const range = tableRange(lines, table);
  if (!range) return text;
  const at = lines.slice(range[0] + 1, range[1]).findIndex((l) => keyLine(key).test(l));
  if (at < 0) return text;
  lines.splice(range[0] + 1 + at, 1);
  return lines.length ? `${lines.join("\n")}\n` : "";
}
