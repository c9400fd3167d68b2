/**
 * deploy/nginx.conf (the load balancer of deploy/docker-compose.yml) in front
 * of two real gateways on loopback, configured as the compose file configures
 * them: requests alternate between the replicas, the Host that clients inside
 * the compose network send is accepted, and a stream reaches the client while
 * the provider is still sending it. Only the addresses are rewritten (the
 * compose service name and ports become loopback ports). Skipped without nginx
 * (.ci/run installs it from Debian).
 */

import assert from "node:assert/strict";
import { startMockedGateway } from "../support/gateway_harness.ts";
import { freePort, until } from "../support/cli_runner.ts";
import { findProgram, skipWithout } from "../support/system_tool.ts";
import { composeEnv, gatewayReads, readRepoFile } from "../support/deploy_files.ts";

const nginx = findProgram(["/usr/sbin/nginx", "/usr/bin/nginx"], "NGINX");
const skip = skipWithout(nginx, "nginx load balancer", "apt-get install nginx-light");

/** The compose gateway's settings that shape requests (keys, allowed hosts), for a loopback replica. */
async function replicaConfig(): Promise<Record<string, unknown>> {
  const config = gatewayReads(await composeEnv({}), "compose");
  return {
    gateway_api_key: config.gateway_api_key,
    allowed_hosts: config.allowed_hosts,
  };
}

/** Runs nginx with deploy/nginx.conf, its upstream and listen address moved to loopback ports. */
async function startNginx(upstreams: string[]) {
  const dir = await Deno.makeTempDir({ prefix: "isartor-nginx-" });
  const port = freePort();
  const conf = (await readRepoFile("deploy/nginx.conf"))
    .replace(
      /^(\s*)server isartor:\d+;/m,
      (_, indent: string) => upstreams.map((u) => `${indent}server ${u};`).join("\n"),
    )
    .replace(/listen \d+;/, `listen 127.0.0.1:${port};`)
    .replace(
      /http \{/,
      `http {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;`,
    );
  assert.ok(upstreams.every((u) => conf.includes(`server ${u};`)), "upstream rewritten");
  await Deno.writeTextFile(`${dir}/nginx.conf`, conf);
  const child = new Deno.Command(nginx!, {
    args: [
      "-p",
      dir,
      "-c",
      `${dir}/nginx.conf`,
      "-g",
      `daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;`,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  await until(
    async () => {
      try {
        await (await fetch(`${url}/healthz`)).body?.cancel();
        return true;
      } catch {
        return false;
      }
    },
    10_000,
    "nginx to listen",
  );
  return {
    url,
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.output();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const chat = (content: string, stream = false) =>
  JSON.stringify({ model: "gpt-4o-mini", stream, messages: [{ role: "user", content }] });

Deno.test({
  name:
    "nginx.conf: round robin over two replicas, the compose Host accepted, a stream relayed before it ends",
  ignore: skip,
  async fn() {
    const config = await replicaConfig();
    await using a = await startMockedGateway(config);
    await using b = await startMockedGateway(config);
    await using lb = await startNginx([a.gw.url, b.gw.url].map((u) => new URL(u).host));
    const headers = {
      "content-type": "application/json",
      authorization: `Bearer ${config.gateway_api_key}`,
      host: "lb:8080", // what a client inside the compose network sends
    };
    for (const question of ["first question", "second question"]) {
      const res = await fetch(`${lb.url}/v1/chat/completions`, {
        method: "POST",
        headers,
        body: chat(question),
      });
      assert.equal(res.status, 200, await res.clone().text());
      await res.body?.cancel();
    }
    assert.equal(a.mock.requests.length, 1, "replica A served one");
    assert.equal(b.mock.requests.length, 1, "replica B served one");

    // The provider sends one event, then waits a minute: the client must see it before then.
    a.mock.defaultBehaviour = { kind: "slow_stream", eventDelayMs: 60_000 };
    b.mock.defaultBehaviour = { kind: "slow_stream", eventDelayMs: 60_000 };
    const res = await fetch(`${lb.url}/v1/chat/completions`, {
      method: "POST",
      headers,
      body: chat("a streamed question", true),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes("data:")) {
      const { value, done } = await reader.read();
      assert.ok(!done, "the stream ended before its first event");
      seen += new TextDecoder().decode(value);
    }
    await reader.cancel();
  },
});
