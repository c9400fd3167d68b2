/**
 * A minimal command-line flag reader (`@std/cli` lives on JSR, which is unreachable here).
 *
 * @module
 */

/** Parsed flags: `--name value`, `--name=value` and bare `--flag` (value `"true"`). */
export type Flags = Map<string, string[]>;

/**
 * Parses `--name value`, `--name=value` and bare boolean `--flag`s. A flag named in `booleans`
 * never takes the next argument as its value. Repeated flags keep every value; arguments that
 * are not flags are ignored.
 *
 * @example
 * ```ts
 * const f = parseFlags(["--only", "overhead", "--quick", "--only=cache"], ["quick"]);
 * f.get("only"); // ["overhead", "cache"]
 * f.has("quick"); // true
 * ```
 */
export function parseFlags(args: readonly string[], booleans: readonly string[] = []): Flags {
  const out: Flags = new Map();
  const add = (k: string, v: string) => out.set(k, [...(out.get(k) ?? []), v]);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--") || a === "--") continue;
    const eq = a.indexOf("=");
    if (eq > 0) {
      add(a.slice(2, eq), a.slice(eq + 1));
    } else {
      const name = a.slice(2);
      const next = args[i + 1];
      if (!booleans.includes(name) && next !== undefined && !next.startsWith("--")) {
        add(name, next);
        i++;
      } else {
        add(name, "true");
      }
    }
  }
  return out;
}

/**
 * The last value of a flag, or `fallback`.
 *
 * @example
 * ```ts
 * flag(parseFlags(["--upstream", "http://x"]), "upstream"); // "http://x"
 * ```
 */
export function flag(flags: Flags, name: string, fallback = ""): string {
  const v = flags.get(name);
  return v && v.length > 0 ? v[v.length - 1] : fallback;
}
