/**
 * Turns the raw captures of bench/capture/agent_requests.ts (`out/<cli>.jsonl`) into the small
 * fixtures of bench/data/agent_requests/ (the format bench/data/agent_requests.ts reads):
 *
 * ```sh
 * npx -y deno@2.9.6 run --allow-read --allow-write bench/capture/trim.ts claude codex ...
 * ```
 *
 * Trimmed: the tool definitions (never read nor changed by the optimiser: their size is kept
 * as `tools_bytes`), and what each request repeats of the one before it (the messages they
 * share, the other fields when equal). The loader rebuilds every body exactly; this script
 * checks that before it writes.
 *
 * @module
 */

import { type AgentFixture, type FixtureTurn, rebuildSession } from "../data/agent_requests.ts";
import { AGENT_CLIS } from "../../tests/support/agent_clis.ts";
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";

type Obj = Record<string, unknown>;

const SHAPES: Record<
  string,
  { cli: keyof typeof AGENT_CLIS; protocol: string; keep?: (path: string) => boolean }
> = {
  claude: { cli: "claude", protocol: "anthropic" },
  codex: { cli: "codex", protocol: "openai_responses" },
  opencode: { cli: "opencode", protocol: "anthropic" },
  opencode_chat: { cli: "opencode", protocol: "openai_chat" },
  // The main model's requests; Gemini CLI's model-router calls (generateContent to a lite model,
  // retried because the mock's text is not the JSON they expect) are left out.
  gemini: { cli: "gemini", protocol: "gemini", keep: (p) => p.includes(":streamGenerateContent") },
};

/** The list field of a protocol's conversation. */
const LIST: Record<string, string> = {
  anthropic: "messages",
  openai_chat: "messages",
  openai_responses: "input",
  gemini: "contents",
};

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

for (const name of Deno.args) {
  const shape = SHAPES[name];
  const lines = (await Deno.readTextFile(new URL(`./out/${name}.jsonl`, import.meta.url)))
    .split("\n").filter((l) => l.trim() !== "");
  const list = LIST[shape.protocol];
  const full: { path: string; body: Obj }[] = lines.map((l) => JSON.parse(l))
    .filter((r: { path: string }) => shape.keep?.(r.path) ?? true);
  const turns: FixtureTurn[] = [];
  let prev: { rest: Obj; items: unknown[] } | null = null;
  for (const { path, body } of full) {
    const { tools, [list]: itemsRaw, ...restAll } = body as Obj;
    const items = Array.isArray(itemsRaw) ? itemsRaw : [];
    const rest = restAll as Obj;
    let keep = 0;
    if (prev) {
      while (
        keep < items.length && keep < prev.items.length && same(items[keep], prev.items[keep])
      ) keep++;
    }
    turns.push({
      path,
      tools_bytes: tools === undefined ? 0 : new TextEncoder().encode(JSON.stringify(tools)).length,
      tools_tokens: tools === undefined ? 0 : countTokens(JSON.stringify(tools)),
      ...(prev && same(prev.rest, rest) ? {} : { rest }),
      keep,
      add: items.slice(keep),
    });
    prev = { rest, items };
  }
  const spec = AGENT_CLIS[shape.cli];
  const fixture: AgentFixture = {
    cli: `${spec.pkg}@${spec.version}`,
    protocol: shape.protocol,
    list,
    made: "bench/capture/agent_requests.ts against the mock provider, then bench/capture/trim.ts",
    turns,
  };
  // Every body must come back exactly (tools aside).
  const rebuilt = rebuildSession(fixture);
  full.forEach(({ body }, i) => {
    const { tools: _t, ...want } = body;
    if (!same(Object.keys(want).sort(), Object.keys(rebuilt[i].body).sort())) {
      throw new Error(`${name} ${i}: keys`);
    }
    for (const k of Object.keys(want)) {
      if (!same(want[k], rebuilt[i].body[k])) throw new Error(`${name} request ${i}: ${k} differs`);
    }
  });
  const text = JSON.stringify(fixture, null, 1) + "\n";
  await Deno.mkdir(new URL("../data/agent_requests/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(new URL(`../data/agent_requests/${name}.json`, import.meta.url), text);
  console.log(`${name}: ${full.length} requests, ${lines.join("").length} -> ${text.length} bytes`);
}
