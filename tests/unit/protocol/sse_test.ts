import assert from "node:assert/strict";
import {
  encodeSse,
  sseDecoderStream,
  sseEncoderStream,
  type SseEvent,
  SseParser,
} from "../../../src/protocol/sse.ts";
import { parseSse } from "./_helpers.ts";

/** An Anthropic-style stream with every feature the parser must handle (and non-ASCII text). */
const FIXTURE = [
  ": keep-alive comment\r\n",
  "event: message_start\r\n",
  'data: {"type":"message_start","message":{"id":"msg_01"}}\r\n',
  "\r\n",
  "event: content_block_delta\n",
  "id: 7\n",
  "retry: 1000\n",
  'data: {"type":"content_block_delta","delta":{"type":"text_delta","text":"Grüße, 世界 👋"}}\n',
  "\n",
  "event: ping\r",
  "data: first line\r",
  "data:second line\r",
  "data:  two spaces\r",
  "\r",
  "event: no_data_event\n",
  "\n",
  "data: [DONE]\n",
  "\n",
].join("");

const EXPECTED: SseEvent[] = [
  { event: "message_start", data: '{"type":"message_start","message":{"id":"msg_01"}}' },
  {
    event: "content_block_delta",
    data: '{"type":"content_block_delta","delta":{"type":"text_delta","text":"Grüße, 世界 👋"}}',
  },
  { event: "ping", data: "first line\nsecond line\n two spaces" },
  { data: "[DONE]" },
];

Deno.test("SseParser parses a whole text", () => {
  assert.deepEqual(parseSse(FIXTURE), EXPECTED);
});

Deno.test("SseParser handles a split at every position", () => {
  for (let i = 0; i <= FIXTURE.length; i++) {
    const p = new SseParser();
    const got = [...p.push(FIXTURE.slice(0, i)), ...p.push(FIXTURE.slice(i)), ...p.flush()];
    assert.deepEqual(got, EXPECTED, `split at ${i}`);
  }
});

Deno.test("SseParser handles one character per chunk, including empty chunks", () => {
  const p = new SseParser();
  const got: SseEvent[] = [];
  for (const ch of FIXTURE) got.push(...p.push(ch), ...p.push(""));
  got.push(...p.flush());
  assert.deepEqual(got, EXPECTED);
});

Deno.test("SseParser treats \\r then \\n in the next chunk as one line break", () => {
  const p = new SseParser();
  assert.deepEqual(p.push("data: a\r"), []);
  assert.deepEqual(p.push("\n"), []);
  assert.deepEqual(p.push("\r"), [{ data: "a" }]);
  assert.deepEqual(p.push("\ndata: b\n\n"), [{ data: "b" }]);
});

Deno.test("SseParser field edge cases", () => {
  assert.deepEqual(parseSse("data\n\n"), [{ data: "" }]);
  assert.deepEqual(parseSse("data:\ndata:\n\n"), [{ data: "\n" }]);
  assert.deepEqual(parseSse("data:x:y\n\n"), [{ data: "x:y" }]);
  assert.deepEqual(parseSse("event: only\nid: 1\n\n"), []);
  assert.deepEqual(parseSse("event:\ndata: z\n\n"), [{ data: "z" }]);
  assert.deepEqual(parseSse("unknown: field\ndata: z\n\n"), [{ data: "z" }]);
  assert.deepEqual(parseSse("\uFEFFdata: bom\n\n"), [{ data: "bom" }]);
  // The event name does not leak into the next event.
  assert.deepEqual(parseSse("event: a\ndata: 1\n\ndata: 2\n\n"), [
    { event: "a", data: "1" },
    { data: "2" },
  ]);
});

Deno.test("SseParser.flush dispatches an event left without its blank line", () => {
  const p = new SseParser();
  assert.deepEqual(p.push("event: x\ndata: tail"), []);
  assert.deepEqual(p.flush(), [{ event: "x", data: "tail" }]);
  assert.deepEqual(p.flush(), []);
});

Deno.test("encodeSse writes the wire form", () => {
  assert.equal(
    encodeSse({ event: "ping", data: '{"type":"ping"}' }),
    'event: ping\ndata: {"type":"ping"}\n\n',
  );
  assert.equal(encodeSse({ data: "[DONE]" }), "data: [DONE]\n\n");
  assert.equal(encodeSse({ data: "a\nb" }), "data: a\ndata: b\n\n");
  assert.equal(encodeSse({ data: "" }), "data: \n\n");
});

Deno.test("encodeSse then parse round-trips", () => {
  const events: SseEvent[] = [...EXPECTED, { data: "" }, { event: "e", data: "x\n\ny" }];
  assert.deepEqual(parseSse(events.map(encodeSse).join("")), events);
});

async function collect<T>(stream: ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of stream) out.push(x);
  return out;
}

function bytesStream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}

Deno.test("sseDecoderStream handles a split at every byte (inside UTF-8 sequences too)", async () => {
  const bytes = new TextEncoder().encode(FIXTURE);
  for (let i = 0; i <= bytes.length; i++) {
    const stream = bytesStream([bytes.slice(0, i), bytes.slice(i)]).pipeThrough(
      sseDecoderStream(),
    );
    assert.deepEqual(await collect(stream), EXPECTED, `split at byte ${i}`);
  }
});

Deno.test("sseEncoderStream and sseDecoderStream round-trip", async () => {
  const events = new ReadableStream<SseEvent>({
    start(controller) {
      for (const ev of EXPECTED) controller.enqueue(ev);
      controller.close();
    },
  });
  const got = await collect(events.pipeThrough(sseEncoderStream()).pipeThrough(sseDecoderStream()));
  assert.deepEqual(got, EXPECTED);
});

Deno.test("sseDecoderStream dispatches a final event without a trailing blank line", async () => {
  const bytes = new TextEncoder().encode("data: a\n\ndata: b");
  assert.deepEqual(await collect(bytesStream([bytes]).pipeThrough(sseDecoderStream())), [
    { data: "a" },
    { data: "b" },
  ]);
});
