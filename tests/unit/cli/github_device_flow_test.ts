// GitHub's device flow against the mock GitHub on 127.0.0.1; the waits are recorded, not slept.
import assert from "node:assert/strict";
import {
  COPILOT_CLIENT_ID,
  type DeviceCode,
  DeviceFlowError,
  githubDeviceFlow,
} from "../../../cli/github_device_flow.ts";
import { MOCK_DEVICE_CODE, MOCK_USER_CODE, startMockGithub } from "../../support/mock_github.ts";

function flow(url: string, clock = { now: 0 }) {
  const waits: number[] = [];
  const codes: DeviceCode[] = [];
  const run = githubDeviceFlow({
    githubUrl: url,
    onCode: (c) => codes.push(c),
    sleep: (ms) => {
      waits.push(ms);
      clock.now += ms;
      return Promise.resolve();
    },
    now: () => clock.now,
  });
  return { run, waits, codes };
}

Deno.test("device flow: pending, then slow_down, then the token; polls at the interval", async () => {
  await using gh = startMockGithub({
    interval: 5,
    polls: [
      { error: "authorization_pending" },
      { error: "authorization_pending" },
      { error: "slow_down", error_description: "Too many requests" },
      { error: "authorization_pending" },
      { access_token: "gho_from_device", token_type: "bearer", scope: "read:user" },
    ],
  });
  const f = flow(gh.url);
  assert.equal(await f.run, "gho_from_device");
  assert.deepEqual(f.codes.map((c) => c.userCode), [MOCK_USER_CODE]);
  // slow_down adds five seconds to every later wait (RFC 8628 §3.5).
  assert.deepEqual(f.waits, [5000, 5000, 5000, 10000, 10000]);
  const [code, ...polls] = gh.seen;
  assert.equal(code.path, "/login/device/code");
  assert.deepEqual(code.body, { client_id: COPILOT_CLIENT_ID, scope: "read:user" });
  assert.equal(code.headers.accept, "application/json");
  assert.equal(polls.length, 5);
  assert.deepEqual(polls[0].body, {
    client_id: COPILOT_CLIENT_ID,
    device_code: MOCK_DEVICE_CODE,
    grant_type: "urn:ietf:params:oauth:grant-type:device_code",
  });
});

Deno.test("device flow: slow_down with GitHub's own interval uses it", async () => {
  await using gh = startMockGithub({
    interval: 5,
    polls: [{ error: "slow_down", interval: 15 }, { access_token: "gho_x" }],
  });
  const f = flow(gh.url);
  assert.equal(await f.run, "gho_x");
  assert.deepEqual(f.waits, [5000, 15000]);
});

Deno.test("device flow: expired_token ends it with what to do", async () => {
  await using gh = startMockGithub({
    interval: 5,
    polls: [{ error: "authorization_pending" }, { error: "expired_token" }],
  });
  await assert.rejects(flow(gh.url).run, (e: unknown) => {
    assert.ok(e instanceof DeviceFlowError);
    assert.match(e.message, /code expired.*run the command again/);
    return true;
  });
});

Deno.test("device flow: the code's own lifetime ends the polling too", async () => {
  // expires_in is 900 s: pending forever stops after 180 polls of 5 s.
  await using gh = startMockGithub({ interval: 5, polls: [{ error: "authorization_pending" }] });
  const f = flow(gh.url);
  await assert.rejects(f.run, /code expired/);
  assert.equal(gh.seen.length - 1, 179);
});

Deno.test("device flow: access_denied and other errors are said plainly", async () => {
  await using denied = startMockGithub({ interval: 0, polls: [{ error: "access_denied" }] });
  await assert.rejects(flow(denied.url).run, /cancelled on GitHub; nothing was stored/);
  await using off = startMockGithub({
    interval: 0,
    polls: [{ error: "device_flow_disabled", error_description: "Device flow is disabled" }],
  });
  await assert.rejects(flow(off.url).run, /device_flow_disabled \(Device flow is disabled\)/);
});
