/**
 * `isartor connect claude`: Claude Code reads `env` from
 * `$CLAUDE_CONFIG_DIR/settings.json` (default `~/.claude/settings.json`) at
 * start; ANTHROPIC_BASE_URL sends its Messages requests to the gateway and
 * ANTHROPIC_AUTH_TOKEN is sent as the bearer token.
 *
 * @module
 */

import type { FileSpec, Setting } from "./edit.ts";
import { type ConnectContext, type ConnectTarget, join, secretOf, tokenFor } from "./target.ts";

/** Claude Code's settings file. */
export function claudeSettingsPath(ctx: ConnectContext): string {
  return join(ctx.env.CLAUDE_CONFIG_DIR || join(ctx.home, ".claude"), "settings.json");
}

/** The `env` entries that point Claude Code at the gateway. */
export function claudeEnvSettings(ctx: ConnectContext): Setting[] {
  const s: Setting[] = [
    { path: ["env", "ANTHROPIC_BASE_URL"], value: ctx.gatewayUrl },
    { path: ["env", "ANTHROPIC_AUTH_TOKEN"], value: tokenFor(ctx) },
  ];
  if (ctx.model) s.push({ path: ["env", "ANTHROPIC_MODEL"], value: ctx.model });
  // ANTHROPIC_SMALL_FAST_MODEL is the deprecated name of the same setting.
  if (ctx.fastModel) {
    s.push({ path: ["env", "ANTHROPIC_DEFAULT_HAIKU_MODEL"], value: ctx.fastModel });
  }
  return s;
}

/** Claude Code's settings file spec. */
export function claudeSettingsSpec(ctx: ConnectContext): FileSpec {
  return {
    path: claudeSettingsPath(ctx),
    format: "jsonc",
    label: "Claude Code settings",
    settings: claudeEnvSettings(ctx),
    secret: secretOf(ctx),
  };
}

/** Claude Code (the `claude` CLI). */
export const claude: ConnectTarget = {
  name: "claude",
  label: "Claude Code",
  summary: "Claude Code: env in ~/.claude/settings.json (honours CLAUDE_CONFIG_DIR)",
  options: ["model", "fast-model"],
  probe: "anthropic",
  files: (ctx) => [claudeSettingsSpec(ctx)],
  notes: (ctx) => [
    "start a new `claude` session: settings are read at start",
    ...(ctx.gatewayKey ? [] : [
      "the gateway has no gateway_api_key: Claude Code sends the placeholder token isartor-local, " +
      "and the gateway's provider key (isartor set-key) is used upstream",
    ]),
  ],
};
