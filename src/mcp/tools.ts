/**
 * The MCP tools isartor offers: `isartor_chat`, `isartor_cache_store` and
 * `isartor_stats`, with their zod input schemas. Each one is a thin call to
 * the gateway's own API (see gateway_api.ts).
 *
 * A bad argument never reaches the gateway: the SDK checks it against the
 * schema and answers a tool error (`isError: true`) made of the messages
 * below, each naming the argument and the fix.
 *
 * @module
 */

import type { CallToolResult, McpServer } from "./sdk.ts";
import { z } from "zod";
import type { StatsReport } from "../telemetry/stats.ts";
import type { GatewayApi } from "./gateway_api.ts";

/** The tool names, in the order they are listed. */
export const TOOL_NAMES = ["isartor_chat", "isartor_cache_store", "isartor_stats"] as const;

/** A required, non-empty string argument, with messages that say what to send. */
function text(name: string, what: string) {
  return z.string({
    error: (issue) =>
      issue.input === undefined
        ? `${name}: missing; fix: send ${what} as a string`
        : `${name}: expected a string, got ${typeof issue.input}; fix: send ${what} as a string`,
  }).refine((v) => v.trim() !== "", { message: `${name}: empty; fix: send ${what}` });
}

const model = z.string({
  error:
    "model: expected a string; fix: send a model name, or leave it out for the gateway's default",
}).optional().describe(
  "The model whose cache partition to use; leave it out for the gateway's default model",
);

/** `isartor_chat`'s arguments. */
export const ChatArgs = z.strictObject({
  prompt: text("prompt", "the question").describe("The question, as the user asked it"),
  model,
  allow_cloud: z.boolean({
    error: "allow_cloud: expected true or false; fix: send a boolean, or leave it out",
  }).optional().describe(
    "On a cache miss, let the gateway ask its configured provider (default false: caches only)",
  ),
}, { error: (issue) => unknownKeys(issue, "prompt, model, allow_cloud") });

/** `isartor_cache_store`'s arguments. */
export const StoreArgs = z.strictObject({
  prompt: text("prompt", "the question that was answered").describe(
    "The question, exactly as isartor_chat was asked it",
  ),
  response: text("response", "the final answer").describe("The final answer to store"),
  model,
}, { error: (issue) => unknownKeys(issue, "prompt, response, model") });

/** `isartor_stats` takes no arguments. */
export const StatsArgs = z.strictObject(
  {},
  { error: (issue) => unknownKeys(issue, "no arguments") },
);

function unknownKeys(issue: { code?: string; keys?: string[] }, allowed: string): string {
  if (issue.code === "unrecognized_keys" && issue.keys) {
    return `unknown argument ${
      issue.keys.map((k) => `"${k}"`).join(", ")
    }; fix: use only ${allowed}`;
  }
  return `arguments: expected an object; fix: send {${allowed === "no arguments" ? "" : allowed}}`;
}

const MISS_TEXT =
  "cache miss: isartor has no cached answer for this prompt. Answer it yourself, then call " +
  "isartor_cache_store with the same prompt and your final answer so the next ask is answered " +
  "locally (or call isartor_chat again with allow_cloud: true to ask the gateway's provider).";

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The stats a model needs, as short text. */
export function statsText(r: StatsReport): string {
  const t = r.totals;
  const layers = Object.entries(r.layers)
    .map(([name, b]) => `${name} ${b.requests}`).join(", ");
  return [
    `requests: ${t.requests} (${t.errors} errors), deflected: ${t.deflected} (${
      pct(r.deflection_rate)
    }) answered without calling the cloud`,
    `by layer: ${layers || "none yet"}`,
    `tokens saved: ${t.saved_input_tokens} in / ${t.saved_output_tokens} out; est. cost saved: $${
      t.saved_cost_usd.toFixed(4)
    }`,
    `tokens sent to providers: ${t.input_tokens} in / ${t.output_tokens} out; counting since ${r.since}`,
  ].join("\n");
}

/** Registers the three tools on a server, each calling `api`. */
export function registerTools(server: McpServer, api: GatewayApi): void {
  server.registerTool("isartor_chat", {
    title: "Ask isartor's cache",
    description:
      "Answer a prompt from isartor's local caches (exact and semantic) without calling any " +
      "cloud model. Call it first for plain questions. On a miss it says so: answer the question " +
      "yourself, then call isartor_cache_store. With allow_cloud: true a miss goes on to the " +
      "gateway's configured provider.",
    inputSchema: ChatArgs,
    outputSchema: {
      answered: z.boolean(),
      layer: z.string().nullable(),
      response: z.string(),
      model: z.string(),
    },
    annotations: { readOnlyHint: false, openWorldHint: true },
  }, async (args, extra): Promise<CallToolResult> => {
    const result = await api.chat(
      { prompt: args.prompt, model: args.model, allowCloud: args.allow_cloud },
      extra.signal,
    );
    return {
      content: [{ type: "text", text: result.answered ? result.response : MISS_TEXT }],
      structuredContent: { ...result },
    };
  });

  server.registerTool("isartor_cache_store", {
    title: "Store an answer in isartor's cache",
    description:
      "Store a prompt and its final answer in isartor's exact cache (your tenant's partition), " +
      "after isartor_chat missed and you answered yourself. Do not call it after a hit.",
    inputSchema: StoreArgs,
    outputSchema: { stored: z.boolean(), key: z.string() },
    annotations: { readOnlyHint: false, idempotentHint: true, openWorldHint: false },
  }, async (args, extra): Promise<CallToolResult> => {
    const { key } = await api.store(args, extra.signal);
    return {
      content: [{
        type: "text",
        text: `stored (key ${key.slice(0, 12)}…): the same prompt is now answered by the cache`,
      }],
      structuredContent: { stored: true, key },
    };
  });

  server.registerTool("isartor_stats", {
    title: "isartor's savings",
    description:
      "How many requests isartor answered locally (deflection) and the tokens and estimated cost saved.",
    inputSchema: StatsArgs,
    annotations: { readOnlyHint: true, openWorldHint: false },
  }, async (_args, extra): Promise<CallToolResult> => {
    const r = await api.stats(extra.signal);
    return {
      content: [{ type: "text", text: statsText(r) }],
      structuredContent: {
        requests: r.totals.requests,
        errors: r.totals.errors,
        deflected: r.totals.deflected,
        deflection_rate: r.deflection_rate,
        layers: Object.fromEntries(Object.entries(r.layers).map(([k, b]) => [k, b.requests])),
        saved_input_tokens: r.totals.saved_input_tokens,
        saved_output_tokens: r.totals.saved_output_tokens,
        saved_cost_usd: r.totals.saved_cost_usd,
        since: r.since,
      },
    };
  });
}
