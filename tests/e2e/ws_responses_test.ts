// The Responses API over WebSocket (Codex's default transport), on real sockets.
import assert from "node:assert/strict";
import { startMockedGateway } from "../support/gateway_harness.ts";

/** A WebSocket client that collects the events of one response at a time. */
class WsClient {
  #messages: string[] = [];
  #waiters: (() => void)[] = [];
  closed = false;
  constructor(readonly socket: WebSocket) {
    socket.onmessage = (e) => {
      this.#messages.push(String(e.data));
      this.#waiters.splice(0).forEach((w) => w());
    };
    socket.onclose = () => {
      this.closed = true;
      this.#waiters.splice(0).forEach((w) => w());
    };
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<WsClient> {
    const socket = new WebSocket(url.replace(/^http/, "ws") + "/v1/responses", { headers });
    return new Promise((resolve, reject) => {
      socket.onopen = () => resolve(new WsClient(socket));
      socket.onerror = (e) => reject(new Error(`upgrade refused: ${(e as ErrorEvent).message}`));
    });
  }

  async #next(): Promise<Record<string, unknown>> {
    while (!this.#messages.length) {
      if (this.closed) throw new Error("socket closed");
      await new Promise<void>((r) => this.#waiters.push(r));
    }
    return JSON.parse(this.#messages.shift()!);
  }

  /** Sends a message and reads events up to the terminal one (completed, failed or error). */
  async create(body: Record<string, unknown>): Promise<Record<string, unknown>[]> {
    this.socket.send(JSON.stringify({ type: "response.create", ...body }));
    const events: Record<string, unknown>[] = [];
    while (true) {
      const ev = await this.#next();
      events.push(ev);
      if (/^(response\.(completed|incomplete|failed)|error)$/.test(String(ev.type))) return events;
    }
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const done = new Promise<void>((r) => this.socket.addEventListener("close", () => r()));
    this.socket.close();
    return done;
  }
}

const USER = (text: string) => ({
  type: "message",
  role: "user",
  content: [{ type: "input_text", text }],
});

function setup(provider = "openai", config: Record<string, unknown> = {}) {
  return startMockedGateway(
    { llm_provider: provider, external_llm_api_key: "sk-provider", ...config },
    { answer: { text: "Hello over a socket." } },
  );
}

const text = (events: Record<string, unknown>[]) =>
  events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join("");
const completed = (events: Record<string, unknown>[]) =>
  events.at(-1)!.response as { id: string; output: unknown[] };

Deno.test("ws: a response.create is served as a streamed POST; events come back one per message", async () => {
  await using t = await setup();
  const ws = await WsClient.open(t.gw.url, {
    authorization: "Bearer sk-client",
    "openai-beta": "responses_websockets=2026-02-06",
  });
  const events = await ws.create({ model: "gpt-5", input: [USER("Hi")], store: false });
  assert.equal(events[0].type, "response.created");
  assert.equal(events.at(-1)!.type, "response.completed");
  assert.equal(text(events), "Hello over a socket.");
  // Exactly what the mock sent, event by event.
  assert.deepEqual(events, t.mock.lastSent!.sse!.map((e) => JSON.parse(e.data)));
  const [req] = t.mock.requests;
  assert.equal(req.method, "POST");
  assert.equal(req.path, "/v1/responses");
  const body = req.body as Record<string, unknown>;
  assert.equal(body.type, undefined);
  assert.equal(body.stream, true);
  assert.deepEqual(body.input, [USER("Hi")]);
  // The WebSocket beta asks for this transport only; upstream is plain HTTP.
  assert.equal(req.headers["openai-beta"], undefined);
  assert.equal(req.headers["sec-websocket-key"], undefined);
  await ws.close();
});

Deno.test("ws: previous_response_id continues the connection's last response with the whole history", async () => {
  await using t = await setup();
  const ws = await WsClient.open(t.gw.url);
  const first = await ws.create({ model: "gpt-5", input: [USER("Hi")], store: false });
  const { id, output } = completed(first);
  const second = await ws.create({
    model: "gpt-5",
    previous_response_id: id,
    input: [USER("And again")],
    store: false,
  });
  assert.equal(second.at(-1)!.type, "response.completed");
  const body = t.mock.requests[1].body as Record<string, unknown>;
  // The provider (and the cache) see the conversation whole, as over HTTP.
  assert.equal(body.previous_response_id, undefined);
  assert.deepEqual(body.input, [USER("Hi"), ...output, USER("And again")]);
  // Only the last response is kept; an older or unknown unstored one is not found.
  const stale = await ws.create({
    model: "gpt-5",
    previous_response_id: id,
    input: [USER("x")],
    store: false,
  });
  assert.equal(stale.at(-1)!.type, "error");
  assert.equal(stale.at(-1)!.status, 400);
  assert.equal(
    (stale.at(-1)!.error as Record<string, unknown>).code,
    "previous_response_not_found",
  );
  assert.equal(t.mock.requests.length, 2);
  await ws.close();
});

Deno.test("ws: generate:false warms up without the model; the turn that follows is whole and cached", async () => {
  await using t = await setup();
  // The way Codex opens a turn: a warmup, then the turn with no new items.
  const turn = async () => {
    const ws = await WsClient.open(t.gw.url);
    const sessionId = crypto.randomUUID();
    const request = {
      model: "gpt-5",
      input: [{ ...USER("Say hello"), id: `msg_${sessionId}` }],
      store: false,
      client_metadata: { session_id: sessionId },
    };
    const warm = await ws.create({ ...request, generate: false });
    assert.equal(warm.at(-1)!.type, "response.completed");
    assert.deepEqual(completed(warm).output, []);
    const events = await ws.create({
      ...request,
      previous_response_id: completed(warm).id,
      input: [],
    });
    await ws.close();
    return events;
  };
  const first = await turn();
  assert.equal(t.mock.requests.length, 1);
  assert.deepEqual(
    ((t.mock.requests[0].body as Record<string, unknown>).input as unknown[]).length,
    1,
  );
  // A second session: new ids, new client_metadata, new connection; the same question.
  const second = await turn();
  assert.equal(t.mock.requests.length, 1, "the second run is answered from L1a");
  assert.equal(text(second), text(first));
  assert.equal(second.at(-1)!.type, "response.completed");
  const stats = await (await fetch(`${t.gw.url}/api/v1/stats`)).json();
  assert.equal(stats.totals.requests, 2);
  assert.equal(stats.totals.deflected, 1);
});

Deno.test("ws: errors come back as error events with the HTTP status; the socket stays usable", async () => {
  await using t = await setup();
  const ws = await WsClient.open(t.gw.url);
  // The provider's error keeps its status and message.
  // (Every attempt: the gateway retries a 429 before it gives up.)
  t.mock.defaultBehaviour = {
    kind: "error",
    status: 429,
    body: { error: { message: "slow down", type: "rate_limit_error", code: "rate_limited" } },
    headers: { "retry-after": "0" },
  };
  const limited = await ws.create({ model: "gpt-5", input: "Hi", store: false });
  const err = limited.at(-1)!;
  assert.equal(err.type, "error");
  assert.equal(err.status, 429);
  assert.equal((err.error as Record<string, unknown>).message, "slow down");
  t.mock.defaultBehaviour = { kind: "ok" };
  // The gateway's own refusal, in the same shape.
  const invalid = await ws.create({ input: "no model" });
  assert.equal(invalid.at(-1)!.type, "error");
  assert.equal(invalid.at(-1)!.status, 400);
  assert.equal((invalid.at(-1)!.error as Record<string, unknown>).type, "invalid_request_error");
  // A message that is not an event.
  ws.socket.send("not json");
  const [bad] = await ws.create({ model: "gpt-5", input: "Hi", store: false }).then((evs) => evs)
    .then((evs) => [evs[0]]);
  assert.equal(bad.type, "error");
  // And the socket still answers.
  const ok = await ws.create({ model: "gpt-5", input: "Hi", store: false });
  assert.equal(ok.at(-1)!.type, "response.completed");
  await ws.close();
});

Deno.test("ws: a chat-only provider gets the translated request; the client still gets Responses events", async () => {
  await using t = await setup("openai_compatible");
  const ws = await WsClient.open(t.gw.url);
  const first = await ws.create({ model: "gpt-5", input: [USER("Hi")], store: false });
  assert.equal(first.at(-1)!.type, "response.completed");
  assert.equal(text(first), "Hello over a socket.");
  const second = await ws.create({
    model: "gpt-5",
    previous_response_id: completed(first).id,
    input: [USER("More")],
    store: false,
  });
  assert.equal(second.at(-1)!.type, "response.completed");
  assert.deepEqual(t.mock.requests.map((r) => r.path), [
    "/v1/chat/completions",
    "/v1/chat/completions",
  ]);
  const messages = (t.mock.requests[1].body as { messages: { role: string }[] }).messages;
  assert.deepEqual(messages.map((m) => m.role), ["user", "assistant", "user"]);
  await ws.close();
});

Deno.test("ws: the upgrade is authenticated like every route; a GET without upgrade is refused", async () => {
  await using t = await setup("openai", { gateway_api_key: "gw-key" });
  await assert.rejects(WsClient.open(t.gw.url), /upgrade refused/);
  const ws = await WsClient.open(t.gw.url, { authorization: "Bearer gw-key" });
  const events = await ws.create({ model: "gpt-5", input: "Hi", store: false });
  assert.equal(events.at(-1)!.type, "response.completed");
  await ws.close();
  const plain = await fetch(`${t.gw.url}/v1/responses`, {
    headers: { authorization: "Bearer gw-key" },
  });
  assert.equal(plain.status, 405);
  assert.match((await plain.json()).error.message, /WebSocket/);
});
