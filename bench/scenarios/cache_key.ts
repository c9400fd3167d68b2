/**
 * Scenario `cache_key`: what computing the exact-cache key costs, in process (no servers).
 *
 * For a small chat request, a 200 KB and a 1 MB agent request (built deterministically by
 * {@linkcode agentRequest}, parsed back from JSON text so strings are flat, as in the gateway),
 * it times the canonical path (`exactKey`: canonical JSON + SHA-256) and the raw-bytes memo path
 * (`RawKeyMemo.fingerprint` + `get`, what a repeat of the same bytes costs), plus, for context,
 * the `JSON.parse` every request pays before either. p50/p99 over many iterations after warm-up.
 *
 * Target: memo path p50 under 0.5 ms for the 1 MB request. The canonical path is reported, not
 * judged.
 *
 * The request builders here are also used by the `exact_cache` scenario.
 *
 * @module
 */

import { exactKey } from "../../src/cache/cache_key.ts";
import { RawKeyMemo } from "../../src/cache/raw_fingerprint.ts";
import { fmt } from "../format.ts";
import { checkTarget, round, type SampleSummary, summarize } from "../stats.ts";
import type { ScenarioContext, ScenarioResult, Table, TargetCheck } from "../types.ts";
import { seededRandom } from "../../tests/support/seeded_random.ts";

/** Scenario id. */
export const name = "cache_key";

/** What the scenario measures. */
export const description =
  "exact-cache key cost in process: canonical JSON + SHA-256 vs the raw-bytes memo, small to 1 MB";

/** A small, typical chat request (the same as the `overhead` scenario's). */
export const SMALL_REQUEST: Readonly<Record<string, unknown>> = {
  model: "gpt-4o-mini",
  messages: [
    { role: "system", content: "You are a helpful assistant. Answer in one short sentence." },
    { role: "user", content: "What is the capital of France?" },
  ],
  temperature: 0,
};

// ---------------------------------------------------------------------------------------------
// A deterministic, realistic coding-agent request (OpenAI Chat Completions shape)

const IDENTS = [
  "todo",
  "store",
  "router",
  "request",
  "response",
  "handler",
  "validate",
  "payload",
  "item",
  "list",
  "filter",
  "page",
  "limit",
  "offset",
  "completed",
  "title",
  "createdAt",
  "updatedAt",
  "service",
  "repository",
  "error",
  "status",
  "result",
  "options",
  "config",
  "logger",
  "cache",
  "user",
  "session",
  "token",
  "query",
  "params",
  "body",
  "next",
  "app",
  "server",
  "port",
  "id",
  "index",
  "count",
];
const WORDS = [
  "the",
  "file",
  "function",
  "returns",
  "a",
  "new",
  "value",
  "when",
  "test",
  "fails",
  "we",
  "need",
  "to",
  "update",
  "handler",
  "so",
  "that",
  "it",
  "validates",
  "input",
  "before",
  "calling",
  "store",
  "and",
  "then",
  "responds",
  "with",
  "status",
  "code",
  "error",
  "message",
  "route",
  "middleware",
  "types",
  "compile",
  "without",
  "warnings",
  "edge",
  "case",
  "empty",
  "title",
  "trimmed",
  "whitespace",
  "pagination",
  "query",
  "parameter",
  "default",
  "limit",
  "is",
  "twenty",
  "naïve",
  "café",
  "—",
  "e.g.",
  "i.e.",
];
const KEYWORDS = ["const", "let", "return", "await", "if", "export", "import", "throw"];
const TYPES = ["string", "number", "boolean", "Todo", "Todo[]", "Promise<void>", "unknown"];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function camel(r: () => number, parts = 2): string {
  let s = pick(r, IDENTS);
  for (let i = 1; i < parts; i++) {
    const w = pick(r, IDENTS);
    s += w[0].toUpperCase() + w.slice(1);
  }
  return s;
}

function sentence(r: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(pick(r, WORDS));
  const s = out.join(" ");
  return `${s[0].toUpperCase()}${s.slice(1)}.`;
}

function prose(r: () => number, sentences: number): string {
  const out: string[] = [];
  for (let i = 0; i < sentences; i++) out.push(sentence(r, 8 + Math.floor(r() * 14)));
  return out.join(" ");
}

/** One line of TypeScript-looking code (quotes, backslashes and braces included). */
function codeLine(r: () => number, depth: number): string {
  const pad = "  ".repeat(depth);
  switch (Math.floor(r() * 8)) {
    case 0:
      return `${pad}const ${camel(r)} = await ${camel(r)}.${camel(r, 1)}(${camel(r, 1)});`;
    case 1:
      return `${pad}if (!${camel(r)}) throw new Error("${sentence(r, 5)} \\"${camel(r, 1)}\\"");`;
    case 2:
      return `${pad}export function ${camel(r)}(${camel(r, 1)}: ${pick(r, TYPES)}): ${
        pick(r, TYPES)
      } {`;
    case 3:
      return `${pad}// ${sentence(r, 6 + Math.floor(r() * 8))}`;
    case 4:
      return `${pad}return { ${camel(r, 1)}: ${camel(r)}, ${camel(r, 1)}: ${
        Math.floor(r() * 1000)
      } };`;
    case 5:
      return `${pad}${pick(r, KEYWORDS)} ${camel(r)} = '${camel(r, 1)}\\t${
        Math.floor(r() * 100)
      }';`;
    case 6:
      return `${pad}res.status(${pick(r, ["200", "201", "400", "404", "500"])}).json({ error: \`${
        sentence(r, 4)
      }\` });`;
    default:
      return `${pad}}`;
  }
}

function codeBlock(r: () => number, lines: number): string[] {
  const out: string[] = [];
  let depth = 0;
  for (let i = 0; i < lines; i++) {
    const line = codeLine(r, depth);
    out.push(line);
    if (line.endsWith("{")) depth = Math.min(depth + 1, 4);
    else if (line.trim() === "}") depth = Math.max(depth - 1, 0);
  }
  return out;
}

const ROOT = "/home/dev/todo-app";
const FILES = [
  "src/store.ts",
  "src/routes/todos.ts",
  "src/middleware/errors.ts",
  "src/app.ts",
  "src/server.ts",
  "src/types.ts",
  "public/app.js",
  "__tests__/unit/store.test.ts",
  "__tests__/integration/todos.test.ts",
];

/** Tool definitions of a coding agent: names, prose descriptions and JSON-schema parameters. */
function agentTools(r: () => number): unknown[] {
  const tool = (
    name: string,
    props: Record<string, string>,
    required: string[],
    descSentences: number,
  ) => ({
    type: "function",
    function: {
      name,
      description: prose(r, descSentences),
      parameters: {
        type: "object",
        properties: Object.fromEntries(
          Object.entries(props).map(([k, t]) => [k, { type: t, description: prose(r, 2) }]),
        ),
        required,
        additionalProperties: false,
        $schema: "http://json-schema.org/draft-07/schema#",
      },
    },
  });
  return [
    tool("Read", { file_path: "string", offset: "number", limit: "number" }, ["file_path"], 12),
    tool("Write", { file_path: "string", content: "string" }, ["file_path", "content"], 8),
    tool(
      "Edit",
      { file_path: "string", old_string: "string", new_string: "string", replace_all: "boolean" },
      ["file_path", "old_string", "new_string"],
      14,
    ),
    tool(
      "Bash",
      { command: "string", timeout: "number", description: "string" },
      ["command"],
      30,
    ),
    tool(
      "Grep",
      { pattern: "string", path: "string", glob: "string", output_mode: "string" },
      ["pattern"],
      16,
    ),
    tool("Glob", { pattern: "string", path: "string" }, ["pattern"], 6),
    tool("LS", { path: "string" }, ["path"], 4),
    tool("TodoWrite", { todos: "array" }, ["todos"], 24),
    tool("WebFetch", { url: "string", prompt: "string" }, ["url", "prompt"], 8),
    tool("Task", { description: "string", prompt: "string" }, ["description", "prompt"], 20),
  ];
}

/** One agent step: the assistant's tool call and the tool's result. */
function agentStep(r: () => number, step: number): unknown[] {
  const file = pick(r, FILES);
  const id = `call_${step.toString(36).padStart(4, "0")}${Math.floor(r() * 1e8).toString(36)}`;
  let name: string;
  let args: Record<string, unknown>;
  let result: string;
  switch (Math.floor(r() * 4)) {
    case 0: {
      name = "Read";
      args = { file_path: `${ROOT}/${file}` };
      const lines = codeBlock(r, 40 + Math.floor(r() * 120));
      result = lines.map((l, i) => `${String(i + 1).padStart(6)}\t${l}`).join("\n");
      break;
    }
    case 1: {
      name = "Edit";
      const before = codeBlock(r, 4 + Math.floor(r() * 10)).join("\n");
      const after = codeBlock(r, 4 + Math.floor(r() * 12)).join("\n");
      args = { file_path: `${ROOT}/${file}`, old_string: before, new_string: after };
      const shown = codeBlock(r, 12).map((l, i) => `${String(i + 30).padStart(6)}\t${l}`);
      result =
        `The file ${ROOT}/${file} has been updated. Here's the result of running \`cat -n\` ` +
        `on a snippet of the edited file:\n${shown.join("\n")}`;
      break;
    }
    case 2: {
      name = "Bash";
      args = { command: "npx jest --runInBand", description: "Run the test suite" };
      const out: string[] = [];
      const suites = 2 + Math.floor(r() * 6);
      for (let s = 0; s < suites; s++) {
        const ok = r() > 0.3;
        out.push(`${ok ? "PASS" : "FAIL"} ${pick(r, FILES)} (${(r() * 3).toFixed(3)} s)`);
        for (let t = 0; t < 3 + Math.floor(r() * 8); t++) {
          out.push(`  ${r() > 0.2 ? "✓" : "✕"} ${sentence(r, 6)} (${Math.floor(r() * 40)} ms)`);
        }
        if (!ok) {
          out.push(`  ● ${sentence(r, 5)}`, "", `    expect(received).toBe(expected)`, "");
          out.push(...codeBlock(r, 6).map((l) => `      ${l}`));
        }
      }
      out.push(`Tests: ${Math.floor(r() * 5)} failed, ${20 + Math.floor(r() * 40)} passed`);
      result = out.join("\n");
      break;
    }
    default: {
      name = "Grep";
      args = { pattern: camel(r), path: `${ROOT}/src`, output_mode: "content" };
      const out: string[] = [];
      for (let i = 0; i < 10 + Math.floor(r() * 30); i++) {
        out.push(`${ROOT}/${pick(r, FILES)}:${1 + Math.floor(r() * 300)}:${codeLine(r, 1)}`);
      }
      result = out.join("\n");
    }
  }
  return [
    {
      role: "assistant",
      content: prose(r, 1 + Math.floor(r() * 3)),
      tool_calls: [{ id, type: "function", function: { name, arguments: JSON.stringify(args) } }],
    },
    { role: "tool", tool_call_id: id, content: result },
  ];
}

/**
 * A coding agent's request of about `targetBytes` (UTF-8 JSON), built deterministically from
 * `seed`: a long system prompt, ten tools with JSON schemas, the user's task, then
 * assistant tool calls (Read, Edit, Bash, Grep) each followed by its tool result, until the size
 * is reached.
 *
 * @example
 * ```ts ignore
 * const body = JSON.stringify(agentRequest(200 * 1024));
 * ```
 */
export function agentRequest(targetBytes: number, seed = 1): Record<string, unknown> {
  const r = seededRandom(seed);
  const system = [
    "You are an interactive CLI tool that helps users with software engineering tasks.",
    ...Array.from({ length: 14 }, (_, i) => `# Section ${i + 1}\n${prose(r, 10)}`),
    `<env>\nWorking directory: ${ROOT}\nIs directory a git repo: Yes\nPlatform: linux\n</env>`,
  ].join("\n\n");
  const messages: unknown[] = [
    { role: "system", content: system },
    {
      role: "user",
      content: `${prose(r, 4)}\n\nThe project lives in ${ROOT}; keep the tests green.`,
    },
  ];
  const body: Record<string, unknown> = {
    model: "gpt-4o",
    messages,
    tools: agentTools(r),
    tool_choice: "auto",
    max_tokens: 8192,
  };
  const size = (v: unknown) => new TextEncoder().encode(JSON.stringify(v)).byteLength;
  let bytes = size(body);
  for (let step = 1; bytes < targetBytes; step++) {
    for (const m of agentStep(r, step)) {
      messages.push(m);
      bytes += size(m) + 1;
    }
  }
  return body;
}

/** The requests measured: small chat, 200 KB and 1 MB agent requests. */
export const BODIES: readonly { id: string; label: string; make: () => Record<string, unknown> }[] =
  [
    { id: "small", label: "small chat", make: () => ({ ...SMALL_REQUEST }) },
    { id: "agent_200k", label: "agent 200 KB", make: () => agentRequest(200 * 1024) },
    { id: "agent_1m", label: "agent 1 MB", make: () => agentRequest(1024 * 1024, 2) },
  ];

// ---------------------------------------------------------------------------------------------
// Timing

/** Run lengths for the full and the quick run (seconds of timed work per measurement). */
export const SETTINGS = {
  full: { seconds: 1.5, warmupSeconds: 0.3, maxSamples: 20000 },
  quick: { seconds: 0.2, warmupSeconds: 0.05, maxSamples: 2000 },
};

/** A sample should last at least this long, so timer resolution does not dominate it. */
const MIN_SAMPLE_MS = 0.02;

let sink = 0;

/**
 * Times `op` (which returns something to keep it from being optimized away): warm-up, then
 * samples of `batch` calls each (batch sized so a sample lasts at least {@linkcode
 * MIN_SAMPLE_MS}), for about `seconds`. Each sample is the mean time per call of its batch.
 */
export function timeOp(
  op: () => string,
  s: { seconds: number; warmupSeconds: number; maxSamples: number },
): SampleSummary & { batch: number } {
  let t0 = performance.now();
  let calls = 0;
  while (performance.now() - t0 < s.warmupSeconds * 1000 || calls < 5) {
    sink += op().length;
    calls++;
  }
  const perCall = (performance.now() - t0) / calls;
  const batch = Math.max(1, Math.ceil(MIN_SAMPLE_MS / Math.max(perCall, 1e-6)));
  const samples: number[] = [];
  t0 = performance.now();
  while (
    samples.length < s.maxSamples &&
    (performance.now() - t0 < s.seconds * 1000 || samples.length < 20)
  ) {
    const a = performance.now();
    for (let i = 0; i < batch; i++) sink += op().length;
    samples.push((performance.now() - a) / batch);
  }
  return { ...summarize(samples), batch };
}

/** Figures for one body. */
interface BodyResult {
  label: string;
  bytes: number;
  messages: number;
  parse: SampleSummary & { batch: number };
  canonical: SampleSummary & { batch: number };
  memo: SampleSummary & { batch: number };
}

function roundSummary(s: SampleSummary & { batch: number }) {
  return {
    count: s.count,
    batch: s.batch,
    p50_ms: round(s.p50_ms, 4),
    p90_ms: round(s.p90_ms, 4),
    p99_ms: round(s.p99_ms, 4),
    mean_ms: round(s.mean_ms, 4),
    min_ms: round(s.min_ms, 4),
    max_ms: round(s.max_ms, 4),
  };
}

/** Runs the scenario. */
export function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const s = ctx.quick ? SETTINGS.quick : SETTINGS.full;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const headers = new Headers({ "content-type": "application/json" });
  const results: Record<string, BodyResult> = {};

  for (const b of BODIES) {
    const text = JSON.stringify(b.make());
    const raw = encoder.encode(text);
    // Parsed from text, as the gateway does: flat strings, no shared structure with the builder.
    const body = JSON.parse(text) as Record<string, unknown>;
    const model = body.model as string;
    ctx.log(`  ${b.label}: ${raw.byteLength} bytes`);

    const expected = exactKey("openai_chat", body, model, headers);
    const memo = new RawKeyMemo();
    const context = "openai_chat\u0000";
    memo.set(memo.fingerprint(context, raw), { digest: expected, model, stream: false });
    if (memo.get(memo.fingerprint(context, raw))?.digest !== expected) {
      throw new Error(`${b.label}: the memo path does not give the canonical digest`);
    }

    const parse = timeOp(() => {
      const v = JSON.parse(decoder.decode(raw)) as Record<string, unknown>;
      return v.model as string;
    }, s);
    const canonical = timeOp(() => exactKey("openai_chat", body, model, headers), s);
    const memoT = timeOp(() => memo.get(memo.fingerprint(context, raw))?.digest ?? "", s);
    results[b.id] = {
      label: b.label,
      bytes: raw.byteLength,
      messages: Array.isArray(body.messages) ? body.messages.length : 0,
      parse,
      canonical,
      memo: memoT,
    };
    ctx.log(
      `    parse p50 ${fmt(parse.p50_ms, 4)} ms, canonical p50 ${
        fmt(canonical.p50_ms, 4)
      } ms, memo p50 ${fmt(memoT.p50_ms, 4)} ms`,
    );
  }
  if (sink === -1) ctx.log("unreachable"); // keeps `sink` observable

  const big = results.agent_1m;
  const targets: Record<string, TargetCheck> = {
    memo_p50_1mb: checkTarget(
      "raw-bytes memo key p50, 1 MB agent request",
      round(big.memo.p50_ms, 4),
      "ms",
      "<",
      0.5,
    ),
  };

  const rows: string[][] = [];
  for (const r of Object.values(results)) {
    for (
      const [path, t] of [
        ["memo (xxhash x2 + get)", r.memo],
        ["canonical (exactKey)", r.canonical],
        ["JSON.parse (context)", r.parse],
      ] as const
    ) {
      rows.push([
        r.label,
        String(r.bytes),
        path,
        fmt(t.p50_ms, 4),
        fmt(t.p99_ms, 4),
        fmt(t.mean_ms, 4),
        fmt(r.bytes / 1e6 / (t.p50_ms / 1000), 0),
        String(t.count),
        String(t.batch),
      ]);
    }
  }
  const table: Table = {
    title: "Exact-cache key, in process (per call; batched samples for fast calls)",
    columns: [
      "request",
      "bytes",
      "path",
      "p50 ms",
      "p99 ms",
      "mean ms",
      "MB/s",
      "samples",
      "batch",
    ],
    rows,
  };

  const data = {
    description,
    settings: {
      seconds_per_measurement: s.seconds,
      warmup_seconds: s.warmupSeconds,
      min_sample_ms: MIN_SAMPLE_MS,
      protocol: "openai_chat",
      note: "bodies parsed from JSON text (flat strings), as the gateway parses them",
    },
    bodies: Object.fromEntries(
      Object.entries(results).map(([id, r]) => [id, {
        label: r.label,
        bytes: r.bytes,
        messages: r.messages,
        memo: roundSummary(r.memo),
        canonical: roundSummary(r.canonical),
        json_parse: roundSummary(r.parse),
        canonical_over_memo_p50: round(r.canonical.p50_ms / r.memo.p50_ms, 1),
      }]),
    ),
  };

  return Promise.resolve({
    data,
    targets,
    tables: [table],
    notes: [
      `1 MB agent request: memo ${fmt(big.memo.p50_ms, 4)} ms p50, canonical ${
        fmt(big.canonical.p50_ms, 4)
      } ms p50 (${fmt(big.canonical.p50_ms / big.memo.p50_ms, 1)}x), JSON.parse ${
        fmt(big.parse.p50_ms, 4)
      } ms p50`,
      "the canonical path runs on a miss or a first sight of the bytes; the memo path on a repeat " +
      "of the same bytes. Either way the gateway has already paid JSON.parse.",
    ],
  });
}
