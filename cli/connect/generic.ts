/**
 * `isartor connect generic`: any OpenAI-compatible tool, by the names of the
 * environment variables it reads (OPENAI_BASE_URL and OPENAI_API_KEY unless
 * told otherwise with `--url-var` and `--key-var`). They go in
 * `<data_dir>/connect/generic.env` (0600) to source.
 *
 * @module
 */

import { type ConnectTarget, envFileSpec, sourceNote, tokenFor } from "./target.ts";

/** Any OpenAI-compatible tool. */
export const generic: ConnectTarget = {
  name: "generic",
  label: "any OpenAI-compatible tool",
  summary:
    "any OpenAI-compatible tool: OPENAI_BASE_URL/OPENAI_API_KEY (or --url-var/--key-var) to source",
  options: ["model"],
  probe: "openai_chat",
  files: (ctx) => {
    const urlVar = ctx.extra.urlVar || "OPENAI_BASE_URL";
    const keyVar = ctx.extra.keyVar || "OPENAI_API_KEY";
    const settings = [
      { path: [urlVar], value: `${ctx.gatewayUrl}/v1` },
      { path: [keyVar], value: tokenFor(ctx) },
    ];
    if (ctx.model) {
      settings.push({ path: [ctx.extra.modelVar || "OPENAI_MODEL"], value: ctx.model });
    }
    return [envFileSpec(ctx, "generic", "OpenAI-compatible variables", settings)];
  },
  notes: (ctx) => [sourceNote(ctx, "generic", "before starting the tool")],
};
