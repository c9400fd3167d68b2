/**
 * `isartor set-alias NAME MODEL`: writes `[model_aliases] NAME = "MODEL"` into
 * isartor.toml, keeping the file's comments and layout.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { loadConfig } from "../src/config/load.ts";
import { homeDir, isartorEnv, loadCliConfig } from "./config.ts";
import { type CliIO, EXIT, style, UsageError } from "./io.ts";
import { configTarget, readTextOrEmpty } from "./set_key.ts";
import { setTableKey } from "./toml_edit.ts";

export const usage = `isartor set-alias NAME MODEL [--json]
isartor set-alias --alias NAME --model MODEL

Writes a model alias into isartor.toml ([model_aliases]): a client that asks
for NAME reaches MODEL on the primary provider (fallbacks serve their own
model). A running gateway reads it at its next start.

Options:
  --alias NAME, --model MODEL   the same as the two positional arguments
  --json                        print {"file", "alias", "model"}

Examples:
  isartor set-alias fast gpt-4o-mini
  isartor set-alias smart claude-sonnet-4-5
  isartor set-alias --alias code --model gpt-4.1`;

const ALIAS_NAME = /^[A-Za-z0-9._:/-]+$/;

/** Runs `isartor set-alias`. */
export function runSetAlias(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      alias: { type: "string" },
      model: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.out(usage);
    return Promise.resolve(EXIT.ok);
  }
  const alias = values.alias ?? positionals[0];
  const model = values.model ?? positionals[values.alias ? 0 : 1];
  if (!alias || !model) {
    throw new UsageError("give an alias and a model: set-alias fast gpt-4o-mini");
  }
  if (!ALIAS_NAME.test(alias)) {
    throw new UsageError(
      `alias "${alias}" has characters a model name cannot have; use letters, digits and . _ : / -`,
    );
  }
  if (alias === model) throw new UsageError(`an alias cannot name itself ("${alias}")`);
  const loaded = loadCliConfig({}, { warn: io.err });
  const file = configTarget(loaded.file);
  const text = setTableKey(readTextOrEmpty(file), "model_aliases", alias, model);
  // The edited file must still load: refuse rather than leave a broken config.
  loadConfig({
    cwd: Deno.cwd(),
    home: homeDir(),
    env: { ...isartorEnv(), ISARTOR_CONFIG: file },
    readTextFile: (p) => p === file ? text : null,
  });
  const dir = file.slice(0, Math.max(file.lastIndexOf("/"), 0));
  if (dir) Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(file, text);
  if (values.json) io.out(JSON.stringify({ file, alias, model }));
  else io.out(style(io, `${alias} → ${model} (in ${file})`, "green"));
  return Promise.resolve(EXIT.ok);
}
