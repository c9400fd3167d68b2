/**
 * Keeps the user docs in step with the code: every configuration key is in
 * docs/configuration.md with its real default, every provider is in
 * docs/providers.md, and every TOML example in the docs is a valid config.
 */
import assert from "node:assert/strict";
import { parse as parseToml } from "smol-toml";
import type { z } from "zod";
import { parseConfig } from "../../../src/config/load.ts";
import {
  ConfigSchema,
  FallbackProviderSchema,
  GatewayKeySchema,
  ProviderKeySchema,
} from "../../../src/config/schema.ts";
import { PROVIDERS } from "../../../src/providers/table.ts";

const ROOT = new URL("../../../", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, ROOT));
const CONFIG_DOC = read("docs/configuration.md");

/** The rows of the first table after the heading that contains `heading`: key → cells. */
function tableAfter(doc: string, heading: string): Map<string, string[]> {
  const lines = doc.split("\n");
  const start = lines.findIndex((l) => /^#{1,6} /.test(l) && l.includes(heading));
  assert.ok(start >= 0, `docs/configuration.md has no heading with ${heading}`);
  const rows = new Map<string, string[]>();
  let inTable = false;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith("|")) {
      inTable = true;
      const cells = line.slice(1, line.trimEnd().length - 1).split("|").map((c) => c.trim());
      const key = /^`([a-z0-9_]+)`$/.exec(cells[0]);
      if (key) rows.set(key[1], cells);
    } else if (inTable || /^#{1,6} /.test(line)) {
      break;
    }
  }
  return rows;
}

/** How a default is written in the docs' Default column. */
function shown(value: unknown): string {
  if (typeof value === "string") return value === "" ? '`""`' : `\`${value}\``;
  return `\`${JSON.stringify(value)}\``;
}

/** Each key of an object schema with its default, or "required" when it has none. */
function defaultsOf(schema: z.ZodObject): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, field] of Object.entries(schema.shape)) {
    const result = (field as z.ZodType).safeParse(undefined);
    out.set(key, result.success ? result.data : "required");
  }
  return out;
}

function checkTable(schema: z.ZodObject, heading: string) {
  const rows = tableAfter(CONFIG_DOC, heading);
  for (const [key, value] of defaultsOf(schema)) {
    const cells = rows.get(key);
    assert.ok(cells, `docs/configuration.md (${heading}) does not document \`${key}\``);
    assert.equal(
      cells.length,
      4,
      `the row of \`${key}\` should have 4 cells: key, type, default, meaning`,
    );
    const [, type, def, meaning] = cells;
    assert.ok(type !== "" && meaning !== "", `the row of \`${key}\` needs a type and a meaning`);
    if (value === "required") {
      assert.match(def, /required/, `\`${key}\` has no default: its Default cell should say so`);
    } else {
      assert.ok(
        def.startsWith(shown(value)),
        `the documented default of \`${key}\` is ${def}, the code's is ${shown(value)}`,
      );
    }
  }
  for (const key of rows.keys()) {
    assert.ok(
      key in schema.shape,
      `docs/configuration.md (${heading}) documents \`${key}\`, which the schema does not have`,
    );
  }
}

Deno.test("docs: every top-level key is documented with its default", () => {
  checkTable(ConfigSchema, "## Keys");
});

Deno.test("docs: every key of a provider_keys entry is documented with its default", () => {
  checkTable(ProviderKeySchema, "`provider_keys` entries");
});

Deno.test("docs: every key of a fallback_providers entry is documented with its default", () => {
  checkTable(FallbackProviderSchema, "`fallback_providers` entries");
});

Deno.test("docs: every key of a gateway_keys entry is documented with its default", () => {
  checkTable(GatewayKeySchema, "`gateway_keys` entries");
});

Deno.test("docs: the full example sets every key and is a valid configuration", () => {
  const example = /## Full example[\s\S]*?```toml\n([\s\S]*?)```/.exec(CONFIG_DOC);
  assert.ok(example, "docs/configuration.md has no full example");
  const raw = parseToml(example[1]) as Record<string, unknown>;
  for (const key of Object.keys(ConfigSchema.shape)) {
    assert.ok(key in raw, `the full example does not set \`${key}\``);
  }
  parseConfig(raw);
});

Deno.test("docs: every TOML snippet in README.md and docs/ is a valid configuration", () => {
  const files = [
    "README.md",
    ...[...Deno.readDirSync(new URL("docs/", ROOT))]
      .filter((e) => e.isFile && e.name.endsWith(".md")).map((e) => `docs/${e.name}`),
  ];
  let snippets = 0;
  for (const file of files) {
    for (const match of read(file).matchAll(/```toml\n([\s\S]*?)```/g)) {
      snippets++;
      const raw = parseToml(match[1]) as Record<string, unknown>;
      const unknown = Object.keys(raw).filter((k) => !(k in ConfigSchema.shape));
      assert.deepEqual(unknown, [], `${file}: a TOML snippet sets unknown keys`);
      parseConfig(raw, () => file);
    }
  }
  assert.ok(snippets >= 5, `expected TOML snippets in the docs, found ${snippets}`);
});

Deno.test("docs: docs/providers.md lists every provider with its base URL and default model", () => {
  const doc = read("docs/providers.md");
  const rows = tableAfter(doc, "# Providers");
  for (const spec of Object.values(PROVIDERS)) {
    const cells = rows.get(spec.name);
    assert.ok(cells, `docs/providers.md does not list \`${spec.name}\``);
    if (spec.baseUrl) {
      assert.ok(
        cells.includes(`\`${spec.baseUrl}\``),
        `\`${spec.name}\`: base URL ${spec.baseUrl}`,
      );
    }
    if (spec.defaultModel) {
      assert.ok(cells.includes(`\`${spec.defaultModel}\``), `\`${spec.name}\`: default model`);
    }
  }
  assert.equal(
    rows.size,
    Object.keys(PROVIDERS).length,
    "docs/providers.md lists unknown providers",
  );
});
