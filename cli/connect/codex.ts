/**
 * `isartor connect codex`: Codex reads `$CODEX_HOME/config.toml` (default
 * `~/.codex/config.toml`). Recent Codex ignores OPENAI_BASE_URL for its
 * built-in provider, so we add our own `[model_providers.isartor]` speaking
 * the Responses API (`wire_api = "responses"`, the only value Codex accepts)
 * and select it with `model_provider`. A custom provider needs no ChatGPT
 * login; the gateway key, when there is one, goes in
 * `experimental_bearer_token` (the file is then 0600), so Codex needs no
 * environment variable either.
 *
 * Two more keys keep Codex on the gateway alone: `[features] plugins = false`
 * (else every start syncs plugins from github.com, api.github.com and
 * chatgpt.com, which a gateway provider has no login for) and `[analytics]
 * enabled = false` (else it reports to ab.chatgpt.com). Both are set as keys
 * inside the user's own tables, which keep their other lines.
 *
 * @module
 */

import type { Setting } from "./edit.ts";
import { type ConnectContext, type ConnectTarget, join, secretOf } from "./target.ts";

/** Codex's config file. */
export function codexConfigPath(ctx: ConnectContext): string {
  return join(ctx.env.CODEX_HOME || join(ctx.home, ".codex"), "config.toml");
}

/** Codex (the `codex` CLI). */
export const codex: ConnectTarget = {
  name: "codex",
  label: "Codex CLI",
  summary: "Codex: [model_providers.isartor] (Responses API) in ~/.codex/config.toml (CODEX_HOME)",
  options: ["model"],
  probe: "openai_responses",
  files: (ctx) => {
    const provider: Record<string, string> = {
      name: "isartor",
      base_url: `${ctx.gatewayUrl}/v1`,
      wire_api: "responses",
    };
    if (ctx.gatewayKey) provider.experimental_bearer_token = ctx.gatewayKey;
    const settings: Setting[] = [{ path: ["model_provider"], value: "isartor" }];
    if (ctx.model) settings.push({ path: ["model"], value: ctx.model });
    settings.push({ path: ["model_providers", "isartor"], value: provider });
    settings.push({ path: ["features", "plugins"], value: false });
    settings.push({ path: ["analytics", "enabled"], value: false });
    return [{
      path: codexConfigPath(ctx),
      format: "toml",
      label: "Codex config",
      settings,
      secret: secretOf(ctx),
    }];
  },
  notes: () => ["start a new `codex` session: config.toml is read at start"],
};
