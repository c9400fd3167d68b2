// What L2.5 may change in each protocol, and nothing else; determinism and the provider's
// prompt-cache prefix across turns, on synthetic requests and on the captured agent sessions.
import assert from "node:assert/strict";
import { optimiseRequest } from "../../../src/optimise/request.ts";
import { repeatNote } from "../../../src/optimise/line_runs.ts";
import type { WireProtocol } from "../../../src/protocol/events.ts";
import {
  AGENT_FIXTURES,
  type AgentFixture,
  loadAgentFixture,
  rebuildSession,
} from "../../../bench/data/agent_requests.ts";

type Obj = Record<string, unknown>;
const RULES = { minify: true, dedup: true };
const NOISY = "Be brief.   \n\n\n\n<!-- internal note -->\n\n----------\n\nAnswer in English.";
const CLEAN = "Be brief.\n\nAnswer in English.";
const WARN = "warning: deprecated option --legacy-peer-deps";
const LOG = `start\n${Array(20).fill(WARN).join("\n")}\ndone`;
const FOLDED = `start\n${WARN}\n${repeatNote(19)}\ndone`;
const ENVELOPE =
  "# AGENTS.md instructions for /p\n\n<INSTRUCTIONS>\nUse tabs.   \n\n\n\nNo emojis.\n</INSTRUCTIONS>";
const ENVELOPE_CLEAN =
  "# AGENTS.md instructions for /p\n\n<INSTRUCTIONS>\nUse tabs.\n\nNo emojis.\n</INSTRUCTIONS>";
/** Text a person typed and an assistant wrote: full of what the rules would change elsewhere. */
const USER = "my text   \n\n\n\n<!-- keep -->\n-----\n" + Array(5).fill(WARN).join("\n");

function rewrite(protocol: WireProtocol, body: Obj): Obj {
  const frozen = structuredClone(body);
  const r = optimiseRequest(protocol, body, RULES);
  assert.deepEqual(body, frozen, "the client's body is never mutated");
  return r?.body ?? body;
}

Deno.test("anthropic: system, CLI instruction envelopes and tool results; user and assistant text kept", () => {
  const body = {
    model: "claude",
    system: [{ type: "text", text: NOISY, cache_control: { type: "ephemeral" } }],
    messages: [
      { role: "user", content: [{ type: "text", text: ENVELOPE }, { type: "text", text: USER }] },
      {
        role: "assistant",
        content: [{ type: "text", text: USER }, {
          type: "tool_use",
          id: "t",
          name: "b",
          input: {},
        }],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "t", content: LOG },
          { type: "tool_result", tool_use_id: "u", content: [{ type: "text", text: LOG }] },
        ],
      },
      { role: "user", content: USER },
    ],
  };
  const out = rewrite("anthropic", body);
  assert.deepEqual(out, {
    ...body,
    system: [{ type: "text", text: CLEAN, cache_control: { type: "ephemeral" } }],
    messages: [
      {
        role: "user",
        content: [{ type: "text", text: ENVELOPE_CLEAN }, { type: "text", text: USER }],
      },
      body.messages[1],
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "t", content: FOLDED },
          { type: "tool_result", tool_use_id: "u", content: [{ type: "text", text: FOLDED }] },
        ],
      },
      body.messages[3],
    ],
  });
  // A string system prompt too.
  assert.equal(rewrite("anthropic", { system: NOISY, messages: [] }).system, CLEAN);
});

Deno.test("openai chat: system and developer messages, tool messages; user and assistant kept", () => {
  const body = {
    model: "gpt",
    messages: [
      { role: "system", content: NOISY },
      { role: "developer", content: [{ type: "text", text: NOISY }] },
      { role: "user", content: USER },
      { role: "user", content: ENVELOPE },
      { role: "assistant", content: USER, tool_calls: [{ id: "c", type: "function" }] },
      { role: "tool", tool_call_id: "c", content: LOG },
    ],
  };
  assert.deepEqual(rewrite("openai_chat", body), {
    ...body,
    messages: [
      { role: "system", content: CLEAN },
      { role: "developer", content: [{ type: "text", text: CLEAN }] },
      body.messages[2],
      { role: "user", content: ENVELOPE_CLEAN },
      body.messages[4],
      { role: "tool", tool_call_id: "c", content: FOLDED },
    ],
  });
});

Deno.test("responses: instructions, system/developer items, call outputs; user and assistant kept", () => {
  const body = {
    model: "gpt",
    instructions: NOISY,
    input: [
      { type: "message", role: "developer", content: [{ type: "input_text", text: NOISY }] },
      { role: "system", content: NOISY },
      { type: "message", role: "user", content: [{ type: "input_text", text: ENVELOPE }] },
      { type: "message", role: "user", content: [{ type: "input_text", text: USER }] },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: USER }] },
      { type: "function_call", call_id: "c", name: "shell", arguments: USER },
      { type: "function_call_output", call_id: "c", output: LOG },
      {
        type: "custom_tool_call_output",
        call_id: "d",
        output: [{ type: "input_text", text: LOG }],
      },
    ],
  };
  assert.deepEqual(rewrite("openai_responses", body), {
    ...body,
    instructions: CLEAN,
    input: [
      { type: "message", role: "developer", content: [{ type: "input_text", text: CLEAN }] },
      { role: "system", content: CLEAN },
      { type: "message", role: "user", content: [{ type: "input_text", text: ENVELOPE_CLEAN }] },
      body.input[3],
      body.input[4],
      body.input[5],
      { type: "function_call_output", call_id: "c", output: FOLDED },
      {
        type: "custom_tool_call_output",
        call_id: "d",
        output: [{ type: "input_text", text: FOLDED }],
      },
    ],
  });
  // A plain string input is the user's: untouched.
  assert.equal(optimiseRequest("openai_responses", { input: USER }, RULES), null);
});

Deno.test("gemini: systemInstruction and functionResponse strings; user and model parts kept", () => {
  const body = {
    systemInstruction: { parts: [{ text: NOISY }] },
    contents: [
      { role: "user", parts: [{ text: USER }] },
      {
        role: "model",
        parts: [{ text: USER }, { functionCall: { name: "sh", args: { c: USER } } }],
      },
      {
        role: "user",
        parts: [{ functionResponse: { name: "sh", response: { output: LOG, code: 0 } } }],
      },
    ],
  };
  assert.deepEqual(rewrite("gemini", body), {
    systemInstruction: { parts: [{ text: CLEAN }] },
    contents: [
      body.contents[0],
      body.contents[1],
      {
        role: "user",
        parts: [{ functionResponse: { name: "sh", response: { output: FOLDED, code: 0 } } }],
      },
    ],
  });
});

Deno.test("nothing to change, or both rule sets off: null (the client's bytes go as they came)", () => {
  const body = { messages: [{ role: "system", content: CLEAN }, { role: "user", content: USER }] };
  assert.equal(optimiseRequest("openai_chat", body, RULES), null);
  assert.equal(
    optimiseRequest("openai_chat", { messages: [{ role: "system", content: NOISY }] }, {
      minify: false,
      dedup: false,
    }),
    null,
  );
});

/** A conversation of `turns` turns, Anthropic shape, `cache_control` on the last user block. */
function anthropicSession(turns: number): Obj {
  const messages: Obj[] = [];
  for (let t = 0; t < turns; t++) {
    messages.push({
      role: "user",
      content: [
        ...(t === 0
          ? [{
            type: "text",
            text:
              `<system-reminder>\nInstructions below.\n\nContents of /p/CLAUDE.md (project instructions, checked into the codebase):\n\n${NOISY}\n</system-reminder>`,
          }]
          : []),
        { type: "text", text: `question ${t}   \n\n\n` },
      ],
    });
    messages.push({
      role: "assistant",
      content: [{ type: "tool_use", id: `t${t}`, name: "b", input: {} }],
    });
    messages.push({
      role: "user",
      content: [{ type: "tool_result", tool_use_id: `t${t}`, content: LOG }],
    });
    messages.push({ role: "assistant", content: [{ type: "text", text: `answer ${t}` }] });
  }
  const last = messages.at(-1)!;
  messages[messages.length - 1] = { ...last };
  (messages[messages.length - 2].content as Obj[])[0] = {
    ...(messages[messages.length - 2].content as Obj[])[0],
    cache_control: { type: "ephemeral" },
  };
  return {
    model: "claude",
    system: [{
      type: "text",
      text: NOISY + "\n\n" +
        "A long paragraph that the client repeats by mistake later in the prompt.",
    }, {
      type: "text",
      text:
        "A long paragraph that the client repeats by mistake later in the prompt.\n\nTools:\n\n\n",
      cache_control: { type: "ephemeral" },
    }],
    messages,
  };
}

Deno.test("a simulated 10-turn session: each turn's rewritten prefix is the byte prefix of the next's", () => {
  let previous: { system: string; messages: string[] } | null = null;
  for (let turn = 1; turn <= 10; turn++) {
    const body = anthropicSession(turn);
    const out = rewrite("anthropic", body);
    // Same input, same bytes.
    assert.equal(JSON.stringify(rewrite("anthropic", structuredClone(body))), JSON.stringify(out));
    // The `cache_control` marker moves to the newest turn (it is not part of the cached
    // prefix); apart from it, every message the previous turn sent is rewritten to the
    // same bytes, and the system blocks (breakpoints included) are identical.
    const system = JSON.stringify(out.system);
    const messages = (out.messages as Obj[]).map((m) => JSON.stringify(stripCache(m)));
    if (previous !== null) {
      assert.equal(system, previous.system, `turn ${turn}: system changed`);
      assert.deepEqual(messages.slice(0, previous.messages.length), previous.messages);
    }
    previous = { system, messages };
    // The repeated system paragraph is dropped from the second system block only.
    const sys = out.system as Obj[];
    assert.ok((sys[0].text as string).includes("repeats by mistake"));
    assert.equal(sys[1].text, "Tools:\n");
    assert.deepEqual(sys[1].cache_control, { type: "ephemeral" });
  }
});

function stripCache(m: Obj): Obj {
  if (!Array.isArray(m.content)) return m;
  return {
    ...m,
    content: m.content.map((b: Obj) => {
      const { cache_control: _c, ...rest } = b;
      return rest;
    }),
  };
}

/** The kinds of text a rule touched, as `role/kind` (user text must never appear). */
function changedKinds(protocol: string, a: unknown, b: unknown, path: string[] = []): string[] {
  if (typeof a === "string") return a === b ? [] : [path.join(".")];
  if (!a || typeof a !== "object") return [];
  return Object.keys(a).flatMap((k) =>
    changedKinds(protocol, (a as Obj)[k], (b as Obj)?.[k], [...path, k])
  );
}

for (const name of AGENT_FIXTURES) {
  Deno.test(`captured ${name} session: only instructions and tool results change, prefixes stay stable`, async () => {
    let fixture: AgentFixture;
    try {
      fixture = await loadAgentFixture(name);
    } catch {
      return; // not captured (bench/data/README.md says which are)
    }
    const protocol = fixture.protocol as WireProtocol;
    const requests = rebuildSession(fixture);
    let prev: { items: unknown[]; outItems: unknown[]; rest: string; outRest: string } | null =
      null;
    for (const [i, r] of requests.entries()) {
      const out = rewrite(protocol, r.body);
      for (const path of changedKinds(protocol, r.body, out)) {
        const [field, idx, ...rest] = path.split(".");
        const item = Array.isArray(r.body[field]) ? (r.body[field] as Obj[])[Number(idx)] : null;
        const role = item && typeof item === "object" ? String(item.role ?? item.type) : field;
        const text = rest.length ? path : field;
        const allowed = ["system", "instructions", "systemInstruction"].includes(field) ||
          ["system", "developer", "tool", "function_call_output"].includes(role) ||
          /tool_result|functionResponse/.test(
            JSON.stringify(rest.length ? (item as Obj).content ?? (item as Obj).parts : ""),
          ) ||
          isEnvelopePath(r.body, path);
        assert.ok(allowed, `${name} request ${i}: ${text} (${role}) changed`);
      }
      const list: string = fixture.list;
      const items = r.body[list] as unknown[];
      const outItems = out[list] as unknown[];
      const { [list]: _a, ...rest } = r.body;
      const { [list]: _b, ...outRest }: Obj = out;
      if (prev) {
        // What the client repeated from the previous request is rewritten the same way.
        let same = 0;
        while (
          same < items.length && JSON.stringify(items[same]) === JSON.stringify(prev.items[same])
        ) same++;
        assert.equal(
          JSON.stringify(outItems.slice(0, same)),
          JSON.stringify(prev.outItems.slice(0, same)),
          `${name} request ${i}: rewritten prefix differs from the previous request's`,
        );
        if (JSON.stringify(rest) === prev.rest) assert.equal(JSON.stringify(outRest), prev.outRest);
      }
      prev = { items, outItems, rest: JSON.stringify(rest), outRest: JSON.stringify(outRest) };
    }
  });
}

/** Whether a path leads into a block whose text is a CLI instruction envelope or a tool result. */
function isEnvelopePath(body: Obj, path: string): boolean {
  let v: unknown = body;
  for (const k of path.split(".")) {
    if (v && typeof v === "object") {
      const o = v as Obj;
      if (o.type === "tool_result" || o.functionResponse) return true;
      if (
        typeof o.text === "string" &&
        /^(<system-reminder>|# AGENTS\.md instructions|<session_context>)/.test(o.text)
      ) {
        return true;
      }
      v = o[k];
    }
  }
  return typeof v === "string" &&
    /^(<system-reminder>|# AGENTS\.md instructions|<session_context>)/.test(v);
}

Deno.test("instruction envelopes: Claude Code, Codex and Gemini CLI blocks are recognised, nothing else", async () => {
  const { isInstructionEnvelope } = await import("../../../src/optimise/envelopes.ts");
  assert.ok(isInstructionEnvelope(ENVELOPE));
  assert.ok(
    isInstructionEnvelope(
      "<system-reminder>\nCodebase and user instructions are shown below.\n\nContents of /p/CLAUDE.md (project instructions, checked into the codebase):\n\nx",
    ),
  );
  assert.ok(
    isInstructionEnvelope(
      "<session_context>\nThis is the Gemini CLI. We are setting up the context for our chat.\nx",
    ),
  );
  for (
    const text of [
      USER,
      "<system-reminder>\nAs you answer the user's questions, you can use the following context:\n# gitStatus",
      "please read # AGENTS.md instructions for /p",
    ]
  ) assert.ok(!isInstructionEnvelope(text), text);
});
