/**
 * The request bodies real agent CLIs sent in a 10-turn session (bench/data/agent_requests/,
 * made by bench/capture/), rebuilt from their trimmed form. Used by the L2.5 bench scenario
 * and its tests.
 *
 * @module
 */

/** One request of a session, as stored: what it adds to the one before it. */
export interface FixtureTurn {
  /** The URL path it was sent to. */
  path: string;
  /** Bytes of its `tools` (left out of the fixture; the optimiser never changes them). */
  tools_bytes: number;
  /** o200k_base tokens of its `tools` as JSON. */
  tools_tokens: number;
  /** Its fields other than the conversation and tools; absent when equal to the previous request's. */
  rest?: Record<string, unknown>;
  /** How many conversation items it shares with the previous request. */
  keep: number;
  /** The items after those. */
  add: unknown[];
}

/** One CLI's captured session. */
export interface AgentFixture {
  /** The CLI's npm package and version. */
  cli: string;
  /** The protocol it spoke. */
  protocol: string;
  /** The body field that holds the conversation (`messages`, `input`, `contents`). */
  list: string;
  /** How it was made. */
  made: string;
  turns: FixtureTurn[];
}

/** A rebuilt request: its body (without `tools`) and the bytes its tools had. */
export interface FixtureRequest {
  path: string;
  body: Record<string, unknown>;
  toolsBytes: number;
  toolsTokens: number;
}

/**
 * The bodies of a session, in the order they were sent.
 *
 * @example
 * ```ts
 * const requests = rebuildSession(await loadAgentFixture("claude"));
 * ```
 */
export function rebuildSession(f: AgentFixture): FixtureRequest[] {
  const out: FixtureRequest[] = [];
  let rest: Record<string, unknown> = {};
  let items: unknown[] = [];
  for (const t of f.turns) {
    if (t.rest) rest = t.rest;
    items = [...items.slice(0, t.keep), ...t.add];
    out.push({
      path: t.path,
      body: structuredClone({ ...rest, [f.list]: items }),
      toolsBytes: t.tools_bytes,
      toolsTokens: t.tools_tokens,
    });
  }
  return out;
}

/** The sessions there are fixtures of. */
export const AGENT_FIXTURES = ["claude", "codex", "opencode", "opencode_chat", "gemini"] as const;

/** Reads one fixture. */
export async function loadAgentFixture(name: string): Promise<AgentFixture> {
  return JSON.parse(
    await Deno.readTextFile(new URL(`./agent_requests/${name}.json`, import.meta.url)),
  );
}
