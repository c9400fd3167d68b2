// The request log appends JSON lines in batches, rotates, and holds no prompt or key.
import assert from "node:assert/strict";
import { RequestLog } from "../../../src/telemetry/request_log.ts";
import type { RequestRecord } from "../../../src/telemetry/stats.ts";

const record: RequestRecord = {
  time: Date.UTC(2025, 0, 1, 12),
  tool: "Codex",
  route: "openai_responses",
  model: "gpt-5",
  layer: "l3",
  status: 200,
  latencyMs: 1234.56,
  provider: "openai",
  stream: true,
  inputTokens: 50,
  outputTokens: 5,
};

Deno.test("request log: lines are buffered, then appended", async () => {
  const dir = await Deno.makeTempDir({ prefix: "isartor-reqlog-" });
  try {
    const log = new RequestLog({ path: `${dir}/requests.jsonl`, flushDelayMs: 10_000 });
    log.append(record, "r1");
    log.append({ ...record, status: 429, inputTokens: undefined }, "r2");
    await assert.rejects(Deno.stat(`${dir}/requests.jsonl`));
    await log.close();
    const lines = (await Deno.readTextFile(`${dir}/requests.jsonl`)).trim().split("\n");
    assert.equal(lines.length, 2);
    const first = JSON.parse(lines[0]);
    assert.deepEqual(first, {
      time: "2025-01-01T12:00:00.000Z",
      request_id: "r1",
      tool: "Codex",
      route: "openai_responses",
      model: "gpt-5",
      layer: "l3",
      status: 200,
      latency_ms: 1234.6,
      provider: "openai",
      stream: true,
      input_tokens: 50,
      output_tokens: 5,
    });
    assert.equal(JSON.parse(lines[1]).input_tokens, null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("request log: rotates to .1 past the size limit", async () => {
  const dir = await Deno.makeTempDir({ prefix: "isartor-reqlog-" });
  try {
    const path = `${dir}/requests.jsonl`;
    const log = new RequestLog({ path, maxBytes: 600 });
    for (let i = 0; i < 3; i++) {
      log.append(record, `a${i}`);
      await log.flush();
    }
    const current = await Deno.readTextFile(path);
    const rotated = await Deno.readTextFile(`${path}.1`);
    assert.ok(current.length <= 600, `${current.length}`);
    assert.match(rotated, /"a0"/);
    assert.match(current, /"a2"/);
    await log.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
