/**
 * Every `isartor connect` target, in the order `connect --help` lists them.
 *
 * @module
 */

import { claude } from "./claude.ts";
import { claudeCopilot } from "./claude_copilot.ts";
import { claudeDesktop } from "./claude_desktop.ts";
import { codex } from "./codex.ts";
import { copilot } from "./copilot.ts";
import { copilotVscode } from "./copilot_vscode.ts";
import { cursor } from "./cursor.ts";
import { gemini } from "./gemini.ts";
import { generic } from "./generic.ts";
import { openclaw } from "./openclaw.ts";
import { opencode } from "./opencode.ts";
import type { ConnectTarget } from "./target.ts";

/** The targets, keyed by the name users type. */
export const TARGETS: Readonly<Record<string, ConnectTarget>> = Object.freeze(
  Object.fromEntries(
    [
      claude,
      claudeDesktop,
      claudeCopilot,
      codex,
      gemini,
      copilot,
      copilotVscode,
      cursor,
      opencode,
      openclaw,
      generic,
    ].map((t) => [t.name, t]),
  ),
);
