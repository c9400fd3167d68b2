// What one Responses WebSocket message asks for, given the connection's last response.
import assert from "node:assert/strict";
import { type ChainedResponse, wsStep } from "../../../src/http/ws_responses_chain.ts";

const create = (body: Record<string, unknown>) =>
  JSON.stringify({ type: "response.create", ...body });
const LAST: ChainedResponse = {
  id: "resp_1",
  input: [{ type: "message", role: "user", content: "Hi" }],
  output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text: "Yo" }] }],
};

Deno.test("ws chain: a create is a streamed POST of the same body, without type or generate", () => {
  const step = wsStep(create({ model: "m", input: "Hi", stream: false, generate: true }), null);
  assert.deepEqual(step, {
    kind: "post",
    body: { model: "m", input: "Hi", stream: true },
    input: [{ type: "message", role: "user", content: "Hi" }],
  });
});

Deno.test("ws chain: the last response is continued whole, without previous_response_id", () => {
  const next = { type: "function_call_output", call_id: "c", output: "ok" };
  const step = wsStep(create({ model: "m", previous_response_id: "resp_1", input: [next] }), LAST);
  assert.equal(step.kind, "post");
  if (step.kind !== "post") return;
  const whole = [...LAST.input, ...LAST.output, next];
  assert.deepEqual(step.body, { model: "m", input: whole, stream: true });
  assert.deepEqual(step.input, whole);
});

Deno.test("ws chain: unknown previous ids: not found when unstored, the provider's when stored", () => {
  const unstored = wsStep(
    create({ model: "m", previous_response_id: "resp_9", input: [], store: false }),
    LAST,
  );
  assert.equal(unstored.kind, "error");
  if (unstored.kind === "error") {
    assert.equal(unstored.error.code, "previous_response_not_found");
    assert.equal(unstored.error.param, "previous_response_id");
  }
  const stored = wsStep(create({ model: "m", previous_response_id: "resp_9", input: [] }), LAST);
  assert.equal(stored.kind, "post");
  if (stored.kind === "post") {
    assert.equal(stored.body.previous_response_id, "resp_9");
    assert.equal(stored.input, null, "the history is the provider's: not continued locally");
  }
});

Deno.test("ws chain: warmups, processed notes and bad messages", () => {
  assert.deepEqual(wsStep(create({ model: "m", input: "Hi", generate: false }), null), {
    kind: "warmup",
    input: [{ type: "message", role: "user", content: "Hi" }],
  });
  assert.deepEqual(wsStep('{"type":"response.processed","response_id":"resp_1"}', LAST), {
    kind: "ignore",
  });
  for (const bad of ["nope", "[1]", '{"type":"session.update"}', create({ background: true })]) {
    const step = wsStep(bad, null);
    assert.equal(step.kind, "error", bad);
    if (step.kind === "error") assert.equal(step.error.status, 400);
  }
});
