/**
 * `isartor connect openclaw`: OpenClaw reads `~/.openclaw/openclaw.json`
 * (JSON5; `$OPENCLAW_CONFIG_PATH`, or `$OPENCLAW_STATE_DIR/openclaw.json`).
 * We add `models.providers.isartor` (OpenAI chat completions, the documented
 * shape for "any custom gateway") and make it the agents' primary model.
 * OpenClaw accepts a non-secret local marker as the key for a loopback URL.
 *
 * @module
 */

import { type ConnectContext, type ConnectTarget, join, secretOf, tokenFor } from "./target.ts";

/** OpenClaw's config file. */
export function openclawConfigPath(ctx: ConnectContext): string {
  if (ctx.env.OPENCLAW_CONFIG_PATH) return ctx.env.OPENCLAW_CONFIG_PATH;
  return join(ctx.env.OPENCLAW_STATE_DIR || join(ctx.home, ".openclaw"), "openclaw.json");
}

/** OpenClaw. */
export const openclaw: ConnectTarget = {
  name: "openclaw",
  label: "OpenClaw",
  summary: "OpenClaw: models.providers.isartor in ~/.openclaw/openclaw.json (OPENCLAW_CONFIG_PATH)",
  options: ["model"],
  probe: "openai_chat",
  files: (ctx) => {
    const model = ctx.model || ctx.defaultModel;
    return [{
      path: openclawConfigPath(ctx),
      format: "jsonc",
      label: "OpenClaw config",
      secret: secretOf(ctx),
      settings: [
        {
          path: ["models", "providers", "isartor"],
          value: {
            baseUrl: `${ctx.gatewayUrl}/v1`,
            apiKey: tokenFor(ctx),
            api: "openai-completions",
            models: [{ id: model, name: `${model} via isartor` }],
          },
        },
        { path: ["agents", "defaults", "model", "primary"], value: `isartor/${model}` },
      ],
    }];
  },
  notes: () => [
    "restart the OpenClaw gateway (openclaw gateway restart) so it reads the new config",
    "openclaw.json is JSON5: isartor edits it when it is JSON with comments; unquoted keys must be edited by hand",
  ],
};
