/**
 * `isartor connect opencode`: opencode merges
 * `$XDG_CONFIG_HOME/opencode/opencode.json` (or `.jsonc`, or `config.json`;
 * default `~/.config/opencode/`) and keeps API keys in
 * `$XDG_DATA_HOME/opencode/auth.json` (default `~/.local/share/opencode/`),
 * keyed by provider id. We add a provider `isartor` on the bundled
 * `@ai-sdk/openai-compatible` package, make it the default model, and store
 * its key the way `opencode auth login` does (`{"type":"api","key":...}`, 0600).
 *
 * @module
 */

import type { Setting } from "./edit.ts";
import {
  type ConnectContext,
  type ConnectTarget,
  join,
  tokenFor,
  xdgConfig,
  xdgData,
} from "./target.ts";

/** opencode's global config file: the one that exists, else opencode.json. */
export function opencodeConfigPath(ctx: ConnectContext): string {
  const dir = join(xdgConfig(ctx), "opencode");
  for (const name of ["opencode.jsonc", "opencode.json", "config.json"]) {
    try {
      Deno.statSync(join(dir, name));
      return join(dir, name);
    } catch { /* try the next */ }
  }
  return join(dir, "opencode.json");
}

/** opencode's credentials file. */
export function opencodeAuthPath(ctx: ConnectContext): string {
  return join(xdgData(ctx), "opencode", "auth.json");
}

/** opencode. */
export const opencode: ConnectTarget = {
  name: "opencode",
  label: "opencode",
  summary: "opencode: provider isartor in ~/.config/opencode/opencode.json, key in its auth.json",
  options: ["model", "fast-model"],
  probe: "openai_chat",
  files: (ctx) => {
    const model = ctx.model || ctx.defaultModel;
    const models: Record<string, { name: string }> = { [model]: { name: model } };
    if (ctx.fastModel) models[ctx.fastModel] = { name: ctx.fastModel };
    const settings: Setting[] = [
      {
        path: ["provider", "isartor"],
        value: {
          npm: "@ai-sdk/openai-compatible",
          name: "isartor",
          options: { baseURL: `${ctx.gatewayUrl}/v1` },
          models,
        },
      },
      { path: ["model"], value: `isartor/${model}` },
    ];
    if (ctx.fastModel) settings.push({ path: ["small_model"], value: `isartor/${ctx.fastModel}` });
    return [
      { path: opencodeConfigPath(ctx), format: "jsonc", label: "opencode config", settings },
      {
        path: opencodeAuthPath(ctx),
        format: "jsonc",
        label: "opencode credentials",
        settings: [{ path: ["isartor"], value: { type: "api", key: tokenFor(ctx) } }],
        // opencode keeps this file 0600 itself: so do we, key or not.
        secret: ctx.gatewayKey || undefined,
      },
    ];
  },
  notes: (ctx) => [
    `the model is isartor/${ctx.model || ctx.defaultModel}; pick another with --model or /models`,
  ],
};
