/**
 * Terminal output for the CLI: colour only on a TTY and never with NO_COLOR,
 * JSON when asked, errors that say what to do next.
 *
 * @module
 */

/** Exit codes, as good CLIs use them. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Where a command writes; injectable for tests. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
  /** Whether stdout is a terminal (colours, spinners, prompts). */
  isTty: boolean;
  color: boolean;
}

/** The real terminal. */
export function terminalIO(): CliIO {
  const isTty = Deno.stdout.isTerminal();
  let noColor = false;
  try {
    noColor = Deno.env.get("NO_COLOR") !== undefined;
  } catch {
    noColor = true;
  }
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    isTty,
    color: isTty && !noColor,
  };
}

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
};

/** Styles text when colour is on. */
export function style(io: CliIO, s: string, ...names: (keyof typeof CODES)[]): string {
  if (!io.color) return s;
  return names.reduce((acc, n) => `\x1b[${CODES[n][0]}m${acc}\x1b[${CODES[n][1]}m`, s);
}

/** A usage error: exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
