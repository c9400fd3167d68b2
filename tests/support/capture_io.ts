/**
 * A {@linkcode CliIO} that keeps what a command prints, for running CLI
 * commands in process (no terminal, no colour).
 *
 * @module
 */

import type { CliIO } from "../../cli/io.ts";

/** What {@linkcode captureIO} returns: the io to pass, and what was printed to it. */
export interface CapturedIO {
  io: CliIO;
  /** Lines printed to stdout, in order. */
  out: string[];
  /** Lines printed to stderr, in order. */
  err: string[];
  /** The stdout lines joined by newlines. */
  text(): string;
  /** The stderr lines joined by newlines. */
  errors(): string;
}

/**
 * Captures what a command prints.
 *
 * @example
 * ```ts
 * const c = captureIO();
 * c.io.out("hello");
 * c.text(); // "hello"
 * ```
 */
export function captureIO(): CapturedIO {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    isTty: false,
    color: false,
  };
  return { io, out, err, text: () => out.join("\n"), errors: () => err.join("\n") };
}
