/**
 * Pure formatting helpers for the console report: numbers, tables, target lines.
 *
 * @module
 */

import type { Table, TargetCheck } from "./types.ts";

/**
 * Formats a number with a fixed number of decimals; `NaN`/`Infinity` print as `-`.
 *
 * @example
 * ```ts
 * fmt(0.12345); // "0.123"
 * fmt(1234.5, 0); // "1235"
 * fmt(NaN); // "-"
 * ```
 */
export function fmt(value: number, digits = 3): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "-";
}

/**
 * Formats a signed difference, e.g. `+0.120`.
 *
 * @example
 * ```ts
 * fmtDelta(0.12); // "+0.120"
 * fmtDelta(-0.5, 1); // "-0.5"
 * ```
 */
export function fmtDelta(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return "-";
  return `${value >= 0 ? "+" : ""}${value.toFixed(digits)}`;
}

/**
 * Renders a table as aligned plain text: the first column left-aligned, the others right-aligned
 * (they hold numbers), under an underlined title.
 *
 * @example
 * ```ts
 * formatTable({ title: "t", columns: ["name", "n"], rows: [["a", "1"], ["bb", "22"]] });
 * // "t\n-\nname   n\na      1\nbb    22"
 * ```
 */
export function formatTable(table: Table): string {
  const widths = table.columns.map((c, i) =>
    Math.max(c.length, ...table.rows.map((r) => (r[i] ?? "").length))
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join("  ")
      .trimEnd();
  return [
    table.title,
    "-".repeat(table.title.length),
    line(table.columns),
    ...table.rows.map(line),
  ].join("\n");
}

/**
 * One line per target: `PASS`/`FAIL`, what, the measured value and the threshold.
 *
 * @example
 * ```ts
 * formatTargets({
 *   x: { description: "p50 overhead", value: 0.1, unit: "ms", op: "<", threshold: 0.2, pass: true },
 * });
 * // "  PASS  p50 overhead: 0.100 ms (target < 0.2 ms)"
 * ```
 */
export function formatTargets(targets: Record<string, TargetCheck>): string {
  return Object.values(targets).map((t) =>
    `  ${t.pass ? "PASS" : "FAIL"}  ${t.description}: ${
      fmt(t.value)
    } ${t.unit} (target ${t.op} ${t.threshold} ${t.unit})`
  ).join("\n");
}

/**
 * A file-name-safe UTC timestamp, e.g. `2025-01-31T12-00-00Z`.
 *
 * @example
 * ```ts
 * fileTimestamp(new Date(Date.UTC(2025, 0, 31, 12, 0, 0, 500))); // "2025-01-31T12-00-00Z"
 * ```
 */
export function fileTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
}
