import assert from "node:assert/strict";
import {
  assertJsonDepth,
  JsonTooDeepError,
  MAX_JSON_DEPTH,
} from "../../../src/protocol/json_depth.ts";
import { canonicalJson } from "../../../src/cache/canonical_json.ts";

Deno.test("json depth: the bound counts arrays and objects, not brackets inside strings", () => {
  assertJsonDepth("[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH));
  assert.throws(() => assertJsonDepth("[".repeat(MAX_JSON_DEPTH + 1)), JsonTooDeepError);
  assertJsonDepth(JSON.stringify({ s: "[".repeat(10_000) + '\\"{' }));
  assert.throws(() => assertJsonDepth('{"a":'.repeat(100_000)), /nests deeper than 256/);
});

Deno.test("json depth: the canonical cache key refuses a value nested too deep instead of overflowing", () => {
  let v: unknown = 1;
  for (let i = 0; i < 100_000; i++) v = [v];
  assert.throws(() => canonicalJson(v), JsonTooDeepError);
  let ok: unknown = 1;
  for (let i = 0; i < MAX_JSON_DEPTH; i++) ok = { a: ok };
  assert.ok(canonicalJson(ok).startsWith('{"a":{"a":'));
});
