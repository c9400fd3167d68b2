import assert from "node:assert/strict";
import {
  Http1Client,
  UpstreamConnectionError,
  UpstreamTimeoutError,
} from "../../../src/providers/http1_client.ts";

const assertEquals = (actual: unknown, expected: unknown, message = "not equal") =>
  assert.deepStrictEqual(actual, expected, message);

/** Awaits a rejection, checks its class and message, and returns the error. */
async function assertRejects(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  type?: new (...args: any[]) => Error,
  includes?: string,
): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    if (type) assert(e instanceof type, `expected ${type.name}, got ${e}`);
    if (includes) assert((e as Error).message.includes(includes), (e as Error).message);
    return e;
  }
  throw new assert.AssertionError({ message: "expected a rejection" });
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A request as the raw server read it. */
interface Received {
  head: string;
  body: string;
}

/** What a scripted server does with one request on a connection. */
type Script = (conn: Deno.Conn, req: Received, index: number) => Promise<"keep" | "close">;

/** A TCP server that speaks HTTP/1.1 by hand, so every framing can be scripted. */
function rawServer(script: Script) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received: Received[] = [];
  let connections = 0;
  const closedByPeer: Promise<void>[] = [];
  const open = new Set<Deno.Conn>();
  const serve = async (conn: Deno.Conn) => {
    open.add(conn);
    let buf = new Uint8Array(0);
    const read = async (): Promise<boolean> => {
      const chunk = new Uint8Array(65536);
      const n = await conn.read(chunk).catch(() => null);
      if (n === null) return false;
      const next = new Uint8Array(buf.length + n);
      next.set(buf);
      next.set(chunk.subarray(0, n), buf.length);
      buf = next;
      return true;
    };
    try {
      for (;;) {
        let end = -1;
        while ((end = dec.decode(buf).indexOf("\r\n\r\n")) < 0) {
          if (!(await read())) return;
        }
        const head = dec.decode(buf.subarray(0, end));
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        while (buf.length < end + 4 + length) if (!(await read())) return;
        const body = dec.decode(buf.subarray(end + 4, end + 4 + length));
        buf = buf.slice(end + 4 + length);
        const req = { head, body };
        received.push(req);
        if ((await script(conn, req, received.length - 1)) === "close") return;
      }
    } finally {
      open.delete(conn);
      try {
        conn.close();
      } catch { /* closed */ }
    }
  };
  (async () => {
    for await (const conn of listener) {
      connections++;
      closedByPeer.push(serve(conn));
    }
  })().catch(() => {});
  const { port } = listener.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}/v1/chat/completions?x=1`,
    received,
    get connections() {
      return connections;
    },
    async close() {
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await Promise.allSettled(closedByPeer);
    },
  };
}

/** Runs `body` with a fresh client, then closes the client and the server. */
async function withClient(
  server: { close(): Promise<void> },
  body: (client: Http1Client) => Promise<void>,
): Promise<void> {
  const client = new Http1Client();
  try {
    await body(client);
  } finally {
    client.close();
    await server.close();
  }
}

/** A server that reads the request and never answers; `sawClose` resolves when the client hangs up. */
function silentServer() {
  let closed!: () => void;
  const sawClose = new Promise<void>((r) => closed = r);
  const server = rawServer(async (conn) => {
    const n = await conn.read(new Uint8Array(16)).catch(() => null);
    if (n === null) closed();
    return "close";
  });
  return { server, sawClose };
}

const write = (conn: Deno.Conn, text: string) => conn.write(enc.encode(text));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const opts = () => ({ signal: new AbortController().signal, timeoutMs: 5000 });

const okReply = (body: string, extra = "") =>
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n${extra}content-length: ${
    enc.encode(body).length
  }\r\n\r\n${body}`;

Deno.test("http1: sends the body and headers as given, reuses one connection", async () => {
  const server = rawServer(async (conn, _req, i) => {
    await write(conn, okReply(`{"n":${i}}`, "x-request-id: req_1\r\n"));
    return "keep";
  });
  await withClient(server, async (client) => {
    for (let i = 0; i < 3; i++) {
      const reply = await client.post(
        server.url,
        { "content-type": "application/json", "authorization": "Bearer k" },
        '{"model":"m","é":1}',
        opts(),
      );
      assertEquals(reply.status, 200);
      assertEquals(reply.headers.get("X-Request-Id"), "req_1");
      assertEquals(dec.decode(await reply.bytes()), `{"n":${i}}`);
    }
    assertEquals(server.connections, 1);
    const { head, body } = server.received[0];
    assertEquals(body, '{"model":"m","é":1}');
    const lines = head.split("\r\n");
    assertEquals(lines[0], "POST /v1/chat/completions?x=1 HTTP/1.1");
    assert(lines.includes(`host: ${new URL(server.url).host}`));
    assert(lines.includes("authorization: Bearer k"));
    assert(lines.includes(`content-length: ${enc.encode(body).length}`));
    // Nothing of its own: no accept-encoding, no user-agent.
    assert(!/accept-encoding|user-agent/i.test(head));
  });
});

Deno.test("http1: a chunked body is decoded, and streamed as it arrives", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const server = rawServer(async (conn) => {
    await write(
      conn,
      "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
    );
    await write(conn, "6;ext=1\r\ndata: \r\n3\r\n");
    await sleep(5);
    await write(conn, "a\n\n\r\n");
    await gate;
    await write(conn, "5\r\nb\n\n\n\n\r\n0\r\nx-trailer: 1\r\n\r\n");
    return "keep";
  });
  await withClient(server, async (client) => {
    const reply = await client.post(server.url, {}, "{}", opts());
    const reader = reply.stream().getReader();
    let text = "";
    while (!text.endsWith("a\n\n")) text += dec.decode((await reader.read()).value);
    assertEquals(text, "data: a\n\n", "the first chunks arrive before the rest is sent");
    release();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value);
    }
    assertEquals(text, "data: a\n\nb\n\n\n\n");
    // The connection went back to the pool after the last chunk and the trailer.
    const again = await client.post(server.url, {}, "{}", opts());
    assertEquals(dec.decode(await again.bytes()), "data: a\n\nb\n\n\n\n");
    assertEquals(server.connections, 1);
  });
});

Deno.test("http1: a reply without length is read to the close, and not reused", async () => {
  const server = rawServer(async (conn) => {
    await write(conn, "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\npart one, ");
    await sleep(5);
    await write(conn, "part two");
    return "close";
  });
  await withClient(server, async (client) => {
    for (let i = 0; i < 2; i++) {
      const reply = await client.post(server.url, {}, "{}", opts());
      assertEquals(dec.decode(await reply.bytes()), "part one, part two");
    }
    assertEquals(server.connections, 2);
  });
});

Deno.test("http1: 1xx replies are skipped; 204 has no body", async () => {
  const server = rawServer(async (conn, _req, i) => {
    if (i === 0) {
      await write(conn, "HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n" + okReply("{}"));
    } else await write(conn, "HTTP/1.1 204 No Content\r\n\r\n");
    return "keep";
  });
  await withClient(server, async (client) => {
    const first = await client.post(server.url, {}, "{}", opts());
    assertEquals([first.status, dec.decode(await first.bytes())], [200, "{}"]);
    const second = await client.post(server.url, {}, "{}", opts());
    assertEquals([second.status, (await second.bytes()).length], [204, 0]);
    assertEquals(server.connections, 1);
  });
});

Deno.test("http1: a kept connection the server closed is replaced without an error", async () => {
  const server = rawServer(async (conn) => {
    // Keep-alive by the headers, then closed: the next request finds a dead connection.
    await write(conn, okReply("{}"));
    return "close";
  });
  await withClient(server, async (client) => {
    for (let i = 0; i < 3; i++) {
      const reply = await client.post(server.url, {}, `{"i":${i}}`, opts());
      assertEquals(dec.decode(await reply.bytes()), "{}");
      await sleep(10);
    }
    assertEquals(server.received.map((r) => r.body), ['{"i":0}', '{"i":1}', '{"i":2}']);
    assertEquals(server.connections, 3);
  });
});

Deno.test("http1: no reply within timeoutMs is a timeout, and the connection is closed", async () => {
  const { server, sawClose } = silentServer();
  await withClient(server, async (client) => {
    const started = performance.now();
    await assertRejects(
      () =>
        client.post(server.url, {}, "{}", { signal: new AbortController().signal, timeoutMs: 60 }),
      UpstreamTimeoutError,
    );
    assert(performance.now() - started < 2000);
    await sawClose;
  });
});

Deno.test("http1: a client abort ends the call with its reason and closes the connection", async () => {
  const { server, sawClose } = silentServer();
  await withClient(server, async (client) => {
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(new Error("client went away")), 20);
    const err = await assertRejects(() =>
      client.post(server.url, {}, "{}", { signal: ctrl.signal, timeoutMs: 5000 })
    );
    assertEquals((err as Error).message, "client went away");
    await sawClose;
  });
});

Deno.test("http1: a body cut short is an error, never a short answer", async () => {
  const server = rawServer(async (conn) => {
    await write(conn, 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"partial":');
    return "close";
  });
  await withClient(server, async (client) => {
    const reply = await client.post(server.url, {}, "{}", opts());
    await assertRejects(() => reply.bytes(), UpstreamConnectionError);
  });
});

Deno.test("http1: what is not HTTP/1.x is an error", async () => {
  const server = rawServer(async (conn) => {
    await write(conn, "SSH-2.0-OpenSSH\r\n\r\n");
    return "close";
  });
  await withClient(server, async (client) => {
    await assertRejects(
      () => client.post(server.url, {}, "{}", opts()),
      UpstreamConnectionError,
      "did not answer in HTTP/1.x",
    );
  });
});

Deno.test("http1: a header that would break the request line is refused before sending", async () => {
  const server = rawServer(() => Promise.resolve("close"));
  await withClient(server, async (client) => {
    await assertRejects(
      () => client.post(server.url, { "x-api-key": "k\r\nx-evil: 1" }, "{}", opts()),
      TypeError,
    );
    await sleep(10);
    assertEquals(server.received.length, 0);
  });
});

Deno.test("http1: reply header bytes are kept as byte strings (Latin-1)", async () => {
  const server = rawServer(async (conn) => {
    const head = enc.encode("HTTP/1.1 200 OK\r\nx-name: caf");
    const tail = enc.encode("\r\ncontent-length: 0\r\n\r\n");
    const out = new Uint8Array(head.length + 1 + tail.length);
    out.set(head);
    out[head.length] = 0xe9;
    out.set(tail, head.length + 1);
    await conn.write(out);
    return "keep";
  });
  await withClient(server, async (client) => {
    const reply = await client.post(server.url, {}, "{}", opts());
    assertEquals(reply.headers.get("x-name"), "caf\u00e9");
    // The same value fetch would expose, accepted as is by a Response.
    assertEquals(new Headers([["x-name", reply.headers.get("x-name")!]]).get("x-name"), "café");
  });
});

/** A CA and a certificate for 127.0.0.1 it signed, from Debian's openssl; null without it. */
async function testCertificates(
  dir: string,
): Promise<{ ca: string; cert: string; key: string } | null> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const steps = [
    ["req", "-x509", ...ec, "-days", "1", "-subj", "/CN=isartor test CA"],
    ["-keyout", `${dir}/ca.key`, "-out", `${dir}/ca.pem`],
    ["req", ...ec, "-subj", "/CN=127.0.0.1", "-keyout", `${dir}/key.pem`, "-out", `${dir}/req.csr`],
    ["x509", "-req", "-in", `${dir}/req.csr`, "-CA", `${dir}/ca.pem`, "-CAkey", `${dir}/ca.key`],
    ["-CAcreateserial", "-days", "1", "-out", `${dir}/cert.pem`, "-extfile", `${dir}/ext.cnf`],
  ];
  await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=IP:127.0.0.1\n");
  const commands = [[...steps[0], ...steps[1]], steps[2], [...steps[3], ...steps[4]]];
  try {
    for (const args of commands) {
      const out = await new Deno.Command("openssl", { args, stdout: "null", stderr: "null" })
        .output();
      if (!out.success) return null;
    }
  } catch {
    return null;
  }
  const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
  return { ca: await read("ca.pem"), cert: await read("cert.pem"), key: await read("key.pem") };
}

Deno.test("http1: https upstreams over TLS, kept alive", async () => {
  const dir = await Deno.makeTempDir();
  const pair = await testCertificates(dir);
  if (!pair) {
    console.warn("openssl not found: TLS test skipped");
    return;
  }
  let accepted = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert: pair.cert, key: pair.key, onListen: () => {} },
    async (req, info) => {
      void info;
      accepted++;
      return new Response(`{"echo":${await req.text()}}`, {
        headers: { "content-type": "application/json" },
      });
    },
  );
  const client = new Http1Client({ caCerts: [pair.ca] });
  try {
    const url = `https://127.0.0.1:${server.addr.port}/v1/messages`;
    for (let i = 0; i < 2; i++) {
      const reply = await client.post(url, {}, `{"i":${i}}`, opts());
      assertEquals(dec.decode(await reply.bytes()), `{"echo":{"i":${i}}}`);
    }
    assertEquals(accepted, 2);
  } finally {
    client.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
