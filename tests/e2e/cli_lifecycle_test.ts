// The gateway's life from the command line: up --detach, a refused second up, requests,
// stats (with the client tool recognized), logs, a graceful stop with a request in flight,
// stats surviving a restart, stale pid files, a port taken by another program.
import assert from "node:assert/strict";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { alive, cliArgs, cliEnv, freePort, isartor, until } from "../support/cli_runner.ts";

const CLAUDE_UA = "claude-cli/2.0.0 (external, cli)";

async function setup() {
  const mock = await startMockUpstream();
  const root = await Deno.makeTempDir({ prefix: "isartor-cli-" });
  await Deno.mkdir(`${root}/home`);
  const port = freePort();
  const dataDir = `${root}/data`;
  const env = {
    HOME: `${root}/home`,
    ISARTOR__DATA_DIR: dataDir,
    ISARTOR__HOST_PORT: `127.0.0.1:${port}`,
    ISARTOR__LLM_PROVIDER: "openai_compatible",
    ISARTOR__EXTERNAL_LLM_URL: `${mock.url}/v1`,
    ISARTOR__EXTERNAL_LLM_API_KEY: "sk-test",
  };
  const pidFile = `${dataDir}/isartor.pid`;
  const readPid = (): { pid: number; url: string } | null => {
    try {
      return JSON.parse(Deno.readTextFileSync(pidFile));
    } catch {
      return null;
    }
  };
  return {
    mock,
    root,
    port,
    dataDir,
    env,
    pidFile,
    readPid,
    url: `http://127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      // Never leak a gateway: kill whatever the pid file still names.
      const info = readPid();
      if (info && alive(info.pid)) {
        try {
          Deno.kill(info.pid, "SIGKILL");
        } catch { /* gone */ }
      }
      await mock.close();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
}

function chat(url: string, content: string, extra: Record<string, unknown> = {}) {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": CLAUDE_UA },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content }], ...extra }),
  });
}

Deno.test("cli: up, refuse a second up, requests, stats, logs, graceful stop, restart", async (t) => {
  await using s = await setup();

  await t.step("up --detach starts the gateway and prints the banner", async () => {
    const r = await isartor(["up", "--detach"], s.env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`listening on http://127\\.0\\.0\\.1:${s.port}`));
    assert.match(r.stdout, /layers: .*L3 cloud/);
    assert.match(r.stdout, /isartor stop/);
    const info = s.readPid();
    assert.ok(info && alive(info.pid), "pid file names a live process");
    assert.equal(info!.url, s.url);
    const health = await fetch(`${s.url}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  });

  await t.step("a second up on the same port is refused with a clear message", async () => {
    const r = await isartor(["up", "--detach"], s.env);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `isartor is already running on http://127\\.0\\.0\\.1:${s.port}, pid \\d+; run \`isartor stop\` first`,
      ),
    );
  });

  await t.step("requests are counted in stats, with the client tool recognized", async () => {
    for (
      const [i, extra] of [{}, {}, { stream: true, stream_options: { include_usage: true } }]
        .entries()
    ) {
      const res = await chat(s.url, `question ${i}`, extra);
      assert.equal(res.status, 200);
      await res.text();
    }
    const r = await isartor(["stats", "--json"], s.env);
    assert.equal(r.code, 0, r.stderr);
    const stats = JSON.parse(r.stdout);
    assert.equal(stats.totals.requests, 3);
    assert.equal(stats.tools["Claude Code"].requests, 3);
    assert.equal(stats.recent.length, 3);
    assert.equal(stats.recent[2].stream, true);
    // The mock reports 12 prompt and 10 completion tokens per answer, the stream's included.
    assert.equal(stats.totals.input_tokens + stats.totals.saved_input_tokens, 36);
    assert.equal(stats.totals.output_tokens + stats.totals.saved_output_tokens, 30);

    const human = await isartor(["stats"], s.env);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /requests\s+3/);
    assert.match(human.stdout, /client tools\s+Claude Code 3/);
    const byTool = await isartor(["stats", "--by-tool"], s.env);
    assert.match(byTool.stdout, /Claude Code\s+3\s+0/);
  });

  await t.step("logs shows the banner; logs --requests one line per request", async () => {
    const r = await isartor(["logs"], s.env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /listening on http:\/\/127\.0\.0\.1/);
    const requestLog = `${s.dataDir}/requests.jsonl`;
    await until(
      async () => {
        const text = await Deno.readTextFile(requestLog).catch(() => "");
        return text.trim().split("\n").filter(Boolean).length === 3;
      },
      5000,
      "the request log to be flushed",
    );
    const req = await isartor(["logs", "--requests"], s.env);
    assert.equal(req.code, 0, req.stderr);
    const lines = req.stdout.trim().split("\n");
    assert.equal(lines.length, 3);
    for (const line of lines) {
      assert.match(
        line,
        /Claude Code\s+openai_chat\s+gpt-4o-mini\s+l\w+\s+200\s+\d+ms\s+12 in \/ 10 out/,
      );
    }
    const raw = await isartor(["logs", "--requests", "--json", "-n", "1"], s.env);
    assert.equal(JSON.parse(raw.stdout).tool, "Claude Code");
    assert.ok(!raw.stdout.includes("question"), "prompts are never logged");
  });

  await t.step("logs --follow prints new lines and follows a rotation", async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: cliArgs(["logs", "--follow", "-n", "1"]),
      env: await cliEnv(s.env),
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    let seen = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const pump = (async () => {
      while (true) {
        const { done, value } = await reader.read();
        if (done) return;
        seen += value;
      }
    })();
    try {
      const log = `${s.dataDir}/isartor.log`;
      await until(() => seen.includes("isartor logs --follow"), 10_000, "the last banner line");
      await Deno.writeTextFile(log, "first appended line\n", { append: true });
      await until(() => seen.includes("first appended line"), 5000, "an appended line");
      await Deno.rename(log, `${log}.old`);
      await Deno.writeTextFile(log, "line after rotation\n");
      await until(() => seen.includes("line after rotation"), 5000, "a line after rotation");
      await Deno.rename(`${log}.old`, log); // keep the gateway's own file for later steps
    } finally {
      child.kill("SIGKILL");
      await child.status;
      await pump.catch(() => {});
    }
  });

  await t.step("stop lets the request in flight finish, then the process is gone", async () => {
    const { pid } = s.readPid()!;
    s.mock.enqueue({ kind: "delay", ms: 1500 });
    const before = s.mock.requests.length;
    const inFlight = chat(s.url, "slow question");
    await until(() => s.mock.requests.length > before, 5000, "the request to reach the provider");
    const r = await isartor(["stop"], s.env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`isartor stopped \\(pid ${pid}`));
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.match(await res.text(), /canned answer/);
    assert.equal(alive(pid), false);
    assert.equal(s.readPid(), null, "pid file removed");
    assert.ok((await Deno.stat(`${s.dataDir}/stats.json`)).isFile, "stats flushed");
  });

  await t.step("stats survive a restart", async () => {
    const up = await isartor(["up", "--detach", "--json"], s.env);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(JSON.parse(up.stdout).url, s.url);
    const r = await isartor(["stats", "--json"], s.env);
    assert.equal(JSON.parse(r.stdout).totals.requests, 4);
    const stop = await isartor(["stop", "--json"], s.env);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(JSON.parse(stop.stdout).stopped, true);
  });

  await t.step("stop and stats when not running: exit 1 and what to do", async () => {
    const stop = await isartor(["stop"], s.env);
    assert.equal(stop.code, 1);
    assert.match(stop.stderr, /not running/);
    const stats = await isartor(["stats"], s.env);
    assert.equal(stats.code, 1);
    assert.match(stats.stderr, /start it with `isartor up --detach`/);
  });
});

Deno.test("cli: a stale pid file is cleaned by stop and by up", async () => {
  await using s = await setup();
  const dead = new Deno.Command("true").spawn();
  await dead.status;
  const stale = JSON.stringify({ pid: dead.pid, url: s.url, port: s.port, started_at: "x" });
  await Deno.mkdir(s.dataDir, { recursive: true });

  await Deno.writeTextFile(s.pidFile, stale);
  const stop = await isartor(["stop"], s.env);
  assert.equal(stop.code, 1);
  assert.match(stop.stderr, /not running; removed a stale pid file/);
  assert.equal(s.readPid(), null);

  await Deno.writeTextFile(s.pidFile, stale);
  const up = await isartor(["up", "--detach"], s.env);
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stderr, /removed a stale pid file/);
  assert.notEqual(s.readPid()!.pid, dead.pid);
  const stop2 = await isartor(["stop"], s.env);
  assert.equal(stop2.code, 0, stop2.stderr);
});

Deno.test("cli: up on a port another program holds says so", async () => {
  await using s = await setup();
  const other = Deno.listen({ hostname: "127.0.0.1", port: s.port });
  try {
    const r = await isartor(["up", "--detach"], s.env);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(`127\\.0\\.0\\.1:${s.port} is already in use by another program`),
    );
    assert.equal(s.readPid(), null);
  } finally {
    other.close();
  }
});

Deno.test("cli: usage errors exit 2 and --help shows examples", async () => {
  const home = await Deno.makeTempDir({ prefix: "isartor-cli-" });
  try {
    const bad = await isartor(["stop", "--bogus"], { HOME: home });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /isartor stop --help/);
    const help = await isartor(["logs", "--help"], { HOME: home });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Examples:/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
