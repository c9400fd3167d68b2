// Fuzzed and hostile bodies: the gateway answers every one below 500, in the client's envelope.
import assert from "node:assert/strict";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startGateway } from "../support/gateway_harness.ts";

/** The chat routes (and the cache admin) with a valid body each and the envelope their errors use. */
const ROUTES = [
  {
    path: "/v1/chat/completions",
    envelope: "openai",
    body: { model: "m", messages: [{ role: "user", content: "hi" }] },
  },
  { path: "/v1/responses", envelope: "openai", body: { model: "m", input: "hi" } },
  {
    path: "/v1/messages",
    envelope: "anthropic",
    body: { model: "m", max_tokens: 8, messages: [{ role: "user", content: "hi" }] },
  },
  {
    path: "/v1beta/models/gemini-2.5-flash:generateContent",
    envelope: "gemini",
    body: { contents: [{ role: "user", parts: [{ text: "hi" }] }] },
  },
  {
    path: "/api/chat",
    envelope: "openai",
    body: { model: "m", messages: [{ role: "user", content: "hi" }] },
  },
  { path: "/api/v1/cache/lookup", envelope: "openai", body: { prompt: "hi" } },
] as const;

function assertEnvelope(envelope: string, body: Record<string, unknown>, what: string) {
  const err = body.error as Record<string, unknown> | undefined;
  assert.ok(
    err && typeof err.message === "string",
    `${what}: no error message in ${JSON.stringify(body)}`,
  );
  if (envelope === "anthropic") assert.equal(body.type, "error", what);
  if (envelope === "gemini") assert.equal(typeof err.status, "string", what);
  if (envelope === "openai") assert.equal(typeof err.type, "string", what);
}

async function post(url: string, path: string, body: string) {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    // the status check below says what went wrong
  }
  return { status: res.status, json, text };
}

/** A small seeded PRNG (mulberry32): the same cases on every run, any failure reproducible. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  "",
  "x".repeat(300),
  [],
  {},
  [null],
  { "": null },
  "\u0000\ud800",
];

/** Replaces one random node of a JSON value with an odd value. */
function mutate(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || rand() < 0.3) {
      return ODD_VALUES[Math.floor(rand() * ODD_VALUES.length)];
    }
    const i = Math.floor(rand() * value.length);
    return value.map((v, j) => (j === i ? mutate(v, rand) : v));
  }
  if (value && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 0 || rand() < 0.3) {
      return ODD_VALUES[Math.floor(rand() * ODD_VALUES.length)];
    }
    const k = keys[Math.floor(rand() * keys.length)];
    return { ...value, [k]: mutate((value as Record<string, unknown>)[k], rand) };
  }
  return ODD_VALUES[Math.floor(rand() * ODD_VALUES.length)];
}

Deno.test("fuzz: a body nested 100,000 deep is a 400 in the client's envelope on every route", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: mock.url,
    cache_mode: "exact",
  });
  try {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    const deepObject = '{"a":'.repeat(100_000) + "1" + "}".repeat(100_000);
    for (const route of ROUTES) {
      for (
        const [what, body] of [
          ["as the whole body", deepObject],
          ["inside a message", JSON.stringify(route.body).replace('"hi"', deep)],
          [
            "inside a known field",
            JSON.stringify({ ...route.body, metadata: 0 }).replace("0}", `${deep}}`),
          ],
        ]
      ) {
        const r = await post(gw.url, route.path, body);
        assert.equal(r.status, 400, `${route.path} ${what}: ${r.text.slice(0, 200)}`);
        assertEnvelope(route.envelope, r.json, `${route.path} ${what}`);
        assert.match(String((r.json.error as Record<string, unknown>).message), /nests deeper/);
      }
    }
    // The gateway still serves ordinary requests afterwards.
    const ok = await post(gw.url, ROUTES[0].path, JSON.stringify(ROUTES[0].body));
    assert.equal(ok.status, 200, ok.text);
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("fuzz: mutated bodies never get a 5xx from the gateway itself", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: mock.url,
    cache_mode: "exact",
  });
  const rand = prng(16);
  try {
    for (const route of ROUTES) {
      for (let i = 0; i < 40; i++) {
        let body = route.body as unknown;
        const rounds = 1 + Math.floor(rand() * 3);
        for (let r = 0; r < rounds; r++) body = mutate(body, rand);
        const text = JSON.stringify(body);
        const r = await post(gw.url, route.path, text);
        const layer = r.status >= 500 ? `(${r.text.slice(0, 200)})` : "";
        assert.ok(r.status < 500, `${route.path} ${text.slice(0, 200)} → ${r.status} ${layer}`);
        if (r.status >= 400) assertEnvelope(route.envelope, r.json, `${route.path} ${text}`);
      }
    }
  } finally {
    await gw.close();
    await mock.close();
  }
});
