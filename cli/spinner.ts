/**
 * A terminal spinner for work that may take more than a second. It draws on
 * stderr, only when both stdout and stderr are terminals, so piped output and
 * `--json` stay clean.
 *
 * @module
 */

import type { CliIO } from "./io.ts";

/** A running spinner. */
export interface Spinner {
  /** Changes the text next to the spinner. */
  update(text: string): void;
  /** Stops and erases the spinner. */
  stop(): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const encoder = new TextEncoder();

/**
 * Starts a spinner with a label; a no-op when not on a terminal.
 *
 * @example
 * ```ts
 * import { terminalIO } from "./io.ts";
 * const spinner = startSpinner(terminalIO(), "checking providers");
 * await new Promise((r) => setTimeout(r, 100));
 * spinner.stop();
 * ```
 */
export function startSpinner(io: CliIO, text: string): Spinner {
  let enabled = io.isTty;
  try {
    enabled = enabled && Deno.stderr.isTerminal();
  } catch {
    enabled = false;
  }
  if (!enabled) return { update() {}, stop() {} };
  let label = text;
  let frame = 0;
  const draw = () => {
    const glyph = io.color ? `\x1b[36m${FRAMES[frame]}\x1b[39m` : FRAMES[frame];
    frame = (frame + 1) % FRAMES.length;
    try {
      Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${glyph} ${label}`));
    } catch { /* the terminal went away */ }
  };
  const timer = setInterval(draw, 80);
  draw();
  return {
    update(next: string) {
      label = next;
    },
    stop() {
      clearInterval(timer);
      try {
        Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
      } catch { /* the terminal went away */ }
    },
  };
}
