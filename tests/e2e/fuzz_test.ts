// Seeded fuzzing of every route a client or a page can reach: mangled bodies, wrong types, foreign
// origins and hosts, wrong content types, slow clients. The gateway never answers 500, every refusal
// comes in the route's own envelope with `X-Isartor-Layer`, nothing a page sent reaches the
// provider or the cache, and the gateway still serves afterwards.
import assert from "node:assert/strict";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { startGateway } from "../support/gateway_harness.ts";
import { openSlow, rawRequest, readReply } from "../support/raw_http.ts";
import { seededRandom } from "../support/seeded_random.ts";

type Envelope = "openai" | "anthropic" | "gemini";

interface Route {
  path: string;
  envelope: Envelope;
  /** A valid body carrying `text` as the question. */
  body(text: string): Record<string, unknown>;
}

const ROUTES: Route[] = [
  {
    path: "/v1/chat/completions",
    envelope: "openai",
    body: (text) => ({ model: "m", messages: [{ role: "user", content: text }] }),
  },
  {
    path: "/v1/responses",
    envelope: "openai",
    body: (text) => ({ model: "m", input: text }),
  },
  {
    path: "/v1/messages",
    envelope: "anthropic",
    body: (text) => ({ model: "m", max_tokens: 16, messages: [{ role: "user", content: text }] }),
  },
  {
    path: "/v1/messages/count_tokens",
    envelope: "anthropic",
    body: (text) => ({ model: "m", messages: [{ role: "user", content: text }] }),
  },
  {
    path: "/v1beta/models/gemini-2.5-flash:generateContent",
    envelope: "gemini",
    body: (text) => ({ contents: [{ role: "user", parts: [{ text }] }] }),
  },
  {
    path: "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    envelope: "gemini",
    body: (text) => ({ contents: [{ role: "user", parts: [{ text }] }] }),
  },
  { path: "/api/chat", envelope: "openai", body: (text) => ({ prompt: text }) },
  {
    path: "/api/v1/cache/store",
    envelope: "openai",
    body: (text) => ({ prompt: text, response: "planted" }),
  },
  { path: "/api/v1/cache/lookup", envelope: "openai", body: (text) => ({ prompt: text }) },
];

const ODD_VALUES: unknown[] = [
  null,
  0,
  -1,
  1e308,
  "",
  "x".repeat(5000),
  [],
  [null],
  {},
  { nested: { deeper: [1, "two", null] } },
  true,
  "\u0000\ud800",
];

/** Replaces, drops or retypes one field somewhere in the body. */
function mutate(value: unknown, rand: () => number): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || rand() < 0.3) {
      return ODD_VALUES[Math.floor(rand() * ODD_VALUES.length)];
    }
    const i = Math.floor(rand() * value.length);
    const out = [...value];
    out[i] = mutate(out[i], rand);
    return out;
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 || rand() < 0.2) {
      return ODD_VALUES[Math.floor(rand() * ODD_VALUES.length)];
    }
    const out = Object.fromEntries(entries);
    const [k, v] = entries[Math.floor(rand() * entries.length)];
    const r = rand();
    if (r < 0.25) delete out[k];
    else if (r < 0.35) out[`unknown_${k}`] = v;
    else out[k] = mutate(v, rand);
    return out;
  }
  return ODD_VALUES[Math.floor(rand() * ODD_VALUES.length)];
}

/** The body text of one fuzzed request: valid, mutated, truncated or not JSON at all. */
function fuzzBody(route: Route, text: string, rand: () => number): string {
  const valid = JSON.stringify(route.body(text));
  const r = rand();
  if (r < 0.15) return valid;
  if (r < 0.65) return JSON.stringify(mutate(route.body(text), rand));
  if (r < 0.8) return valid.slice(0, Math.floor(rand() * valid.length));
  if (r < 0.85) return "";
  if (r < 0.9) return JSON.stringify([valid]);
  if (r < 0.95) return `${valid}${valid}`;
  return String.fromCharCode(...Array.from({ length: 64 }, () => Math.floor(rand() * 256)));
}

function assertEnvelope(envelope: Envelope, body: string, what: string): void {
  let parsed: {
    type?: unknown;
    error?: { type?: unknown; status?: unknown; code?: unknown; message?: unknown };
  };
  try {
    parsed = JSON.parse(body);
  } catch {
    assert.fail(`${what}: the error body is not JSON: ${body.slice(0, 200)}`);
  }
  if (envelope === "anthropic") {
    assert.equal(parsed.type, "error", what);
    assert.equal(typeof parsed.error?.type, "string", what);
  } else if (envelope === "gemini") {
    assert.equal(typeof parsed.error?.status, "string", what);
    assert.equal(typeof parsed.error?.code, "number", what);
  } else {
    assert.equal(typeof parsed.error?.type, "string", what);
  }
  const message = parsed.error?.message;
  assert.ok(typeof message === "string" && message.length > 0, what);
}

Deno.test("fuzz: mangled bodies, foreign origins and hosts, wrong types: never a 500, never planted", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: `${mock.url}/v1`,
    external_llm_api_key: "sk-provider",
    cache_mode: "both",
    cache_backend: "memory",
    request_read_timeout_secs: 0.3,
  });
  const host = new URL(gw.url).host;
  const seed = Number(Deno.env.get("ISARTOR_FUZZ_SEED") ?? 20261207);
  const rand = seededRandom(seed); // a failure replays with the same seed
  // Questions sent by a refused caller carry a mark: it must never reach the provider.
  const refusedMarks: string[] = [];
  const statuses = new Map<number, number>();
  try {
    const one = async (i: number) => {
      const route = ROUTES[Math.floor(rand() * ROUTES.length)];
      const r = rand();
      let kind: "json" | "text/plain" | "form" | "none" | "origin" | "host";
      if (r < 0.6) kind = "json";
      else if (r < 0.7) kind = "text/plain";
      else if (r < 0.75) kind = "form";
      else if (r < 0.8) kind = "none";
      else if (r < 0.9) kind = "origin";
      else kind = "host";
      const mark = `fuzz-${seed}-${i}`;
      const body = fuzzBody(route, `question ${mark}`, rand);
      const headers: Record<string, string> = { host };
      if (kind === "json" || kind === "origin" || kind === "host") {
        headers["content-type"] = rand() < 0.5
          ? "application/json"
          : "application/json; charset=utf-8";
      } else if (kind === "text/plain") headers["content-type"] = "text/plain;charset=UTF-8";
      else if (kind === "form") headers["content-type"] = "application/x-www-form-urlencoded";
      if (kind === "origin") headers.origin = rand() < 0.5 ? "http://evil.example" : "null";
      if (kind === "host") {
        headers.host = rand() < 0.5 ? "evil.example" : `rebound.example:${new URL(gw.url).port}`;
      }
      if (kind !== "json") refusedMarks.push(mark);
      const reply = await rawRequest(gw.url, "POST", route.path, headers, body);
      const what = `#${i} seed ${seed} ${kind} ${route.path} -> ${reply.status}: ${
        reply.body.slice(0, 300)
      }`;
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      assert.notEqual(reply.status, 500, what);
      if (reply.status >= 400 || !route.path.startsWith("/api/v1/cache")) {
        assert.ok(reply.headers["x-isartor-layer"], `${what} (no X-Isartor-Layer)`);
      }
      if (kind !== "json") {
        assert.ok([403, 415, 421].includes(reply.status) || reply.status === 400, what);
        assert.equal(reply.headers["x-isartor-layer"], "gateway", what);
      }
      if (reply.status >= 400 && reply.headers["x-isartor-layer"] === "gateway") {
        assert.ok(reply.status < 500, what);
        assertEnvelope(route.envelope, reply.body, what);
      }
    };
    const total = 600;
    const workers = 6;
    let next = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (next < total) await one(next++);
      }),
    );

    // Slow clients: a body that never comes gets 408; neither it nor a head that never ends
    // (held until the client gives up: docs/security.md) blocks anyone else.
    const slowHead = await openSlow(
      gw.url,
      `POST /v1/chat/completions HTTP/1.1\r\nhost: ${host}\r\n`,
    );
    const slowBody = await openSlow(
      gw.url,
      `POST /v1/messages HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"model"`,
    );
    const meanwhile = await fetch(`${gw.url}/healthz`);
    assert.equal(meanwhile.status, 200, "slow clients do not block others");
    await meanwhile.body?.cancel();
    const bodyReply = await readReply(slowBody);
    assert.equal(bodyReply.status, 408);
    assertEnvelope("anthropic", bodyReply.body, "slow body");
    slowHead.close();

    const sent = mock.requests.map((q) => q.rawBody).join("\n");
    for (const mark of refusedMarks) {
      assert.ok(
        !sent.includes(`${mark}"`) && !sent.includes(`${mark} `),
        `${mark} reached the provider`,
      );
    }
    // Nothing a refused caller stored is served: each refused mark is a miss.
    for (const mark of refusedMarks.slice(0, 20)) {
      const res = await fetch(`${gw.url}/api/v1/cache/lookup`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ prompt: `question ${mark}` }),
      });
      assert.equal(res.status, 204, `${mark} was planted`);
      await res.body?.cancel();
    }
    // And the gateway still answers a plain request.
    const ok = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "still alive?" }] }),
    });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    console.log(
      `seed ${seed}: ${total} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  } finally {
    await gw.close();
    await mock.close();
  }
});

Deno.test("fuzz: a body nested 100,000 deep is a 400 in the route's envelope, never a 500", async () => {
  const mock = await startMockUpstream();
  const gw = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: `${mock.url}/v1`,
    external_llm_api_key: "sk-provider",
    cache_mode: "both",
    cache_backend: "memory",
    embedding_backend: "none",
  });
  const deepArray = "[".repeat(100_000) + "]".repeat(100_000);
  const deepObject = '{"a":'.repeat(100_000) + "1" + "}".repeat(100_000);
  try {
    for (const route of ROUTES) {
      const cases = [
        ["as the whole body", deepObject],
        ["as the question", JSON.stringify(route.body("@@")).replace('"@@"', deepArray)],
        [
          "as an extra field",
          JSON.stringify({ ...route.body("hi"), extra: 0 }).replace(/0}$/, `${deepArray}}`),
        ],
      ];
      for (const [where, body] of cases) {
        const res = await fetch(`${gw.url}${route.path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        const text = await res.text();
        const what = `${route.path} ${where}`;
        assert.equal(res.status, 400, `${what}: ${text.slice(0, 200)}`);
        assertEnvelope(route.envelope, text, what);
        assert.match(text, /nests deeper than 256 levels/, what);
      }
    }
    assert.equal(mock.requests.length, 0, "nothing reached the provider");
    // Still serving.
    const ok = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(ROUTES[0].body("hi")),
    });
    assert.equal(ok.status, 200, await ok.text());
  } finally {
    await gw.close();
    await mock.close();
  }
});
