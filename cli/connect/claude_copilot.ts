/**
 * `isartor connect claude-copilot`: Claude Code through the gateway, with a
 * GitHub Copilot subscription as the gateway's L3 provider. Claude Code's
 * settings get the same `env` as `connect claude`; isartor's own credentials
 * file gets `llm_provider = "copilot"` and the GitHub token (0600), which the
 * gateway exchanges for short-lived Copilot API tokens
 * (src/providers/copilot_token.ts). Both are undone by `--disconnect`.
 *
 * @module
 */

import { credentialsPath } from "../credentials.ts";
import { claudeSettingsSpec } from "./claude.ts";
import type { ConnectTarget } from "./target.ts";

/** Claude Code served by a Copilot subscription. */
export const claudeCopilot: ConnectTarget = {
  name: "claude-copilot",
  label: "Claude Code via GitHub Copilot",
  summary:
    "Claude Code on your Copilot subscription: signs in to GitHub, copilot as the L3 provider",
  options: ["model", "fast-model"],
  probe: "anthropic",
  files: (ctx) => {
    const token = ctx.extra.githubToken ?? "";
    return [
      claudeSettingsSpec(ctx),
      {
        path: credentialsPath(ctx.dataDir),
        format: "jsonc",
        label: "isartor credentials (copilot provider)",
        secret: token || undefined,
        settings: [
          { path: ["llm_provider"], value: "copilot" },
          { path: ["external_llm_api_key"], value: token },
          { path: ["external_llm_model"], value: ctx.model || "claude-sonnet-4.5" },
          // Another provider's pool or URL must not be used for Copilot while connected.
          { path: ["provider_keys"] },
          { path: ["external_llm_url"] },
        ],
      },
    ];
  },
  notes: () => [
    "restart the gateway (isartor stop; isartor up) so it uses the copilot provider",
    "Copilot model names use dots (claude-sonnet-4.5); the gateway sends external_llm_model upstream",
  ],
};
