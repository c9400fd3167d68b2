/**
 * Instruction files that agent CLIs put into a user turn, recognised by the
 * exact envelope the CLI wraps them in. Such a block is the CLI's, not text
 * the person typed: the optimiser treats it as an instruction file. Any other
 * user block is left alone.
 *
 * - Claude Code: a text block `<system-reminder>` that shows
 *   `Contents of <path> (…instructions…):` (CLAUDE.md, its imports, rules).
 * - Codex: a user message `# AGENTS.md instructions for <dir>` with the file in
 *   `<INSTRUCTIONS>`.
 * - Gemini CLI: a user part `<session_context>` ("This is the Gemini CLI. We are
 *   setting up the context for our chat.") holding GEMINI.md in `<loaded_context>`.
 *
 * @module
 */

const CLAUDE_CODE =
  /^<system-reminder>\n[^\n]*\n\nContents of [^\n]+ \([^\n)]*instructions[^\n)]*\):\n/;
const CODEX = /^# AGENTS\.md instructions for [^\n]+\n\n<INSTRUCTIONS>\n/;
const GEMINI_CLI =
  /^<session_context>\nThis is the Gemini CLI\. We are setting up the context for our chat\.\n/;

/**
 * Whether a user-turn text is an instruction file in a known CLI envelope.
 *
 * @example
 * ```ts
 * isInstructionEnvelope("# AGENTS.md instructions for /p\n\n<INSTRUCTIONS>\n...\n</INSTRUCTIONS>"); // true
 * isInstructionEnvelope("please fix the bug"); // false
 * ```
 */
export function isInstructionEnvelope(text: string): boolean {
  return CLAUDE_CODE.test(text) || CODEX.test(text) || GEMINI_CLI.test(text);
}
