/**
 * `isartor connect gemini`: Gemini CLI loads `~/.gemini/.env` (under
 * `$GEMINI_CLI_HOME` when set) when no project `.env` is found first;
 * GOOGLE_GEMINI_BASE_URL points its Gemini API requests at the gateway (http
 * is allowed for localhost only) and GEMINI_API_KEY is the key it sends. The
 * auth type `gemini-api-key` is selected in `~/.gemini/settings.json` so it
 * does not ask for a Google login, and `privacy.usageStatisticsEnabled` is
 * turned off (else it reports usage to play.googleapis.com), so it talks to
 * the gateway only.
 *
 * Gemini CLI reads `~/.gemini/.env` only in a trusted folder (one the user
 * trusted in its dialog, `~/.gemini/trustedFolders.json`); elsewhere it
 * ignores it (see the notes).
 *
 * @module
 */

import type { Setting } from "./edit.ts";
import { type ConnectContext, type ConnectTarget, join, secretOf, tokenFor } from "./target.ts";

/** Gemini CLI's user directory. */
export function geminiDir(ctx: ConnectContext): string {
  return join(ctx.env.GEMINI_CLI_HOME || ctx.home, ".gemini");
}

/** Gemini CLI. */
export const gemini: ConnectTarget = {
  name: "gemini",
  label: "Gemini CLI",
  summary: "Gemini CLI: GOOGLE_GEMINI_BASE_URL in ~/.gemini/.env, auth type in settings.json",
  options: ["model"],
  probe: "gemini",
  files: (ctx) => {
    const settings: Setting[] = [
      { path: ["security", "auth", "selectedType"], value: "gemini-api-key" },
      { path: ["privacy", "usageStatisticsEnabled"], value: false },
    ];
    if (ctx.model) settings.push({ path: ["model", "name"], value: ctx.model });
    return [
      {
        path: join(geminiDir(ctx), ".env"),
        format: "dotenv",
        label: "Gemini CLI environment",
        settings: [
          { path: ["GOOGLE_GEMINI_BASE_URL"], value: ctx.gatewayUrl },
          { path: ["GEMINI_API_KEY"], value: tokenFor(ctx) },
        ],
        secret: secretOf(ctx),
      },
      {
        path: join(geminiDir(ctx), "settings.json"),
        format: "jsonc",
        label: "Gemini CLI settings",
        settings,
      },
    ];
  },
  notes: () => [
    "Gemini CLI reads ~/.gemini/.env in trusted folders only: trust your project when it asks " +
    "(or run with GEMINI_CLI_TRUST_WORKSPACE=true), else it ignores the gateway settings",
    "a project .env (or .gemini/.env) found before ~/.gemini/.env wins; " +
    "set GOOGLE_GEMINI_BASE_URL there too if you have one",
    "the gateway answers the Gemini API (generateContent, streamGenerateContent) when its gemini routes are built in",
  ],
};
