/**
 * Reading a secret: hidden typing on a terminal, or the first line of piped
 * stdin (`echo $KEY | isartor set-key -p groq`).
 *
 * @module
 */

/** The user pressed Ctrl-C (or Ctrl-D on an empty line) at the prompt. */
export class InputCancelled extends Error {
  override name = "InputCancelled";
}

const encoder = new TextEncoder();

/** The first non-empty line of a piped input, trimmed; "" when there is none. */
export function firstLine(text: string): string {
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t) return t;
  }
  return "";
}

/**
 * Reads a secret typed on the terminal without echoing it: raw mode, one
 * character at a time until Enter, with Backspace and Ctrl-C (or Ctrl-D on an
 * empty line: cancel). The prompt goes to stderr. Raw mode is always restored.
 */
export async function readHiddenLine(prompt: string): Promise<string> {
  Deno.stderr.writeSync(encoder.encode(prompt));
  Deno.stdin.setRaw(true);
  const chars: string[] = [];
  const decoder = new TextDecoder();
  const buf = new Uint8Array(256);
  try {
    while (true) {
      const n = await Deno.stdin.read(buf);
      if (n === null) break;
      const text = decoder.decode(buf.subarray(0, n), { stream: true });
      let escape = false;
      for (const ch of text) {
        if (escape) {
          // Skip the rest of an escape sequence (arrow keys and the like).
          if (/[A-Za-z~]/.test(ch)) escape = false;
          continue;
        }
        if (ch === "\r" || ch === "\n") return chars.join("");
        if (ch === "\x03") throw new InputCancelled("cancelled (Ctrl-C)");
        if (ch === "\x04") {
          if (chars.length === 0) throw new InputCancelled("cancelled (Ctrl-D)");
          return chars.join("");
        }
        if (ch === "\x7f" || ch === "\b") chars.pop();
        else if (ch === "\x15") chars.length = 0; // Ctrl-U clears the line
        else if (ch === "\x1b") escape = true;
        else if (ch >= " ") chars.push(ch);
      }
    }
    return chars.join("");
  } finally {
    Deno.stdin.setRaw(false);
    Deno.stderr.writeSync(encoder.encode("\n"));
  }
}

/**
 * Reads a secret: hidden typing when stdin is a terminal, else the first line
 * of stdin. Returns "" when nothing was given.
 */
export async function readSecret(prompt: string): Promise<string> {
  if (Deno.stdin.isTerminal()) return (await readHiddenLine(prompt)).trim();
  return firstLine(await new Response(Deno.stdin.readable).text());
}
