import assert from "node:assert/strict";
import { BODY_LOG_FILE, BodyLog, withBodyLog } from "../../../src/telemetry/body_log.ts";
import { startGateway } from "../../support/gateway_harness.ts";
import { startMockUpstream } from "../../support/mock_upstream.ts";

async function lines(path: string) {
  return (await Deno.readTextFile(path)).trim().split("\n").map((l) => JSON.parse(l));
}

Deno.test("body log: headers, query keys and key-shaped strings are redacted; bodies capped; 0600", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = new BodyLog({
      dir: `${dir}/logs`,
      secrets: ["my-configured-secret"],
      maxBodyBytes: 200,
    });
    const inner = async (req: Request) => {
      const body = await req.text();
      return new Response(
        JSON.stringify({ echoed: body.length, key: "sk-ant-abcdefghijklmnopqrstuvwxyz" }),
        {
          headers: {
            "content-type": "application/json",
            "set-cookie": "s=1",
            "x-isartor-layer": "l3",
          },
        },
      );
    };
    const logged = withBodyLog(log, inner);
    const body = JSON.stringify({
      note:
        "my-configured-secret and AIzaSyA1234567890abcdefghijklmnopqrstu and isk-abcdefghijklmnop",
      pad: "x".repeat(1000),
    });
    const res = await logged(
      new Request("http://127.0.0.1/v1beta/models/m:generateContent?key=AIzaSecret&alt=sse", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: "Bearer sk-proj-0123456789abcdef",
          "x-api-key": "whatever",
          "x-goog-api-key": "goog",
        },
        body,
      }),
    );
    // The inner handler got the whole body; the client gets the whole answer.
    assert.equal((await res.json()).echoed, body.length);
    await log.flush();
    const [line] = await lines(`${dir}/logs/${BODY_LOG_FILE}`);
    assert.equal(line.path, "/v1beta/models/m:generateContent?key=[redacted]&alt=sse");
    assert.equal(line.request_headers.authorization, "[redacted]");
    assert.equal(line.request_headers["x-api-key"], "[redacted]");
    assert.equal(line.request_headers["x-goog-api-key"], "[redacted]");
    assert.equal(line.response_headers["set-cookie"], "[redacted]");
    assert.equal(line.layer, "l3");
    assert.equal(line.request_body_truncated, true);
    assert.ok(line.request_body.length <= 200 + 40);
    const text = await Deno.readTextFile(`${dir}/logs/${BODY_LOG_FILE}`);
    for (
      const secret of [
        "my-configured-secret",
        "AIzaSy",
        "isk-abcdef",
        "sk-ant-",
        "sk-proj",
        "AIzaSecret",
        'goog"',
      ]
    ) {
      assert.ok(!text.includes(secret), `${secret} leaked`);
    }
    assert.equal((await Deno.stat(`${dir}/logs/${BODY_LOG_FILE}`)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dir}/logs`)).mode! & 0o777, 0o700);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("body log: the file rotates past its size, keeping a bounded number of old files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = new BodyLog({ dir, maxFileBytes: 2000, rotations: 2 });
    const logged = withBodyLog(log, () => Promise.resolve(new Response("y".repeat(500))));
    for (let i = 0; i < 20; i++) {
      await (await logged(
        new Request("http://127.0.0.1/x", { method: "POST", body: "z".repeat(500) }),
      )).text();
    }
    await log.flush();
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, [BODY_LOG_FILE, `${BODY_LOG_FILE}.1`, `${BODY_LOG_FILE}.2`]);
    for (const n of names) assert.ok(Deno.statSync(`${dir}/${n}`).size <= 2000 + 1500);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("body log: off by default; on, a streamed answer is relayed whole and logged", async () => {
  const mock = await startMockUpstream();
  const off = await startGateway({ llm_provider: "openai_compatible", external_llm_url: mock.url });
  const on = await startGateway({
    llm_provider: "openai_compatible",
    external_llm_url: mock.url,
    external_llm_api_key: "sk-provider-configured-key",
    enable_request_logs: true,
  });
  try {
    const ask = (url: string, stream: boolean) =>
      fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m", stream, messages: [{ role: "user", content: "hi" }] }),
      });
    await (await ask(off.url, false)).text();
    await off.gateway.close();
    assert.ok(![...Deno.readDirSync(off.dataDir)].some((e) => e.name === "request_logs"));
    const streamed = await (await ask(on.url, true)).text();
    assert.match(streamed, /data: \[DONE\]/);
    await on.gateway.close();
    const [line] = await lines(`${on.dataDir}/request_logs/${BODY_LOG_FILE}`);
    assert.equal(line.status, 200);
    assert.match(line.request_body, /"stream":true/);
    assert.equal(line.response_body, streamed);
  } finally {
    await off.close();
    await on.close();
    await mock.close();
  }
});
