/**
 * Canonical JSON in the style of RFC 8785 (JCS): object keys sorted by UTF-16
 * code units, numbers in their shortest round-trip form (ECMAScript
 * `Number.prototype.toString`, which JCS adopts), strings escaped as
 * `JSON.stringify` does, no insignificant whitespace.
 *
 * So two requests that differ only in key order or spacing get the same bytes,
 * and the same cache key.
 *
 * @module
 */

import { checkDepth } from "../protocol/json_depth.ts";

/**
 * Serializes a JSON value canonically. `undefined` members are dropped (as
 * JSON.stringify does); non-finite numbers are refused, since JSON has none;
 * nesting deeper than `MAX_JSON_DEPTH` throws `JsonTooDeepError` (a 400).
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [1.0, "x"] }); // '{"a":[1,"x"],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out, 0);
  return out.join("");
}

function write(value: unknown, out: string[], depth: number): void {
  switch (typeof value) {
    case "string":
      out.push(JSON.stringify(value));
      return;
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} is not JSON`);
      // -0 serializes as 0 in JCS; String(-0) is already "0".
      out.push(String(value));
      return;
    case "boolean":
      out.push(value ? "true" : "false");
      return;
    case "object": {
      if (value === null) {
        out.push("null");
        return;
      }
      checkDepth(depth);
      if (Array.isArray(value)) {
        out.push("[");
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.push(",");
          const v = value[i];
          write(v === undefined ? null : v, out, depth + 1);
        }
        out.push("]");
        return;
      }
      const obj = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, exactly as JCS asks.
      const keys = Object.keys(obj).sort();
      out.push("{");
      let first = true;
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        if (!first) out.push(",");
        first = false;
        out.push(JSON.stringify(k), ":");
        write(v, out, depth + 1);
      }
      out.push("}");
      return;
    }
    default:
      throw new TypeError(`canonicalJson: a ${typeof value} is not JSON`);
  }
}
