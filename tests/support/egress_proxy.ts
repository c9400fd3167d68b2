/**
 * A refusing HTTP(S) proxy on loopback, handed to the real agent CLIs as `HTTPS_PROXY` /
 * `HTTP_PROXY`: every request to a host outside `allow` is answered 403 and remembered, so a
 * test can report (and assert) what a client tried to reach on its own (telemetry, update
 * checks, plugin downloads). Allowed targets (the gateway on 127.0.0.1) are tunnelled, for
 * clients that send loopback traffic through the proxy despite `NO_PROXY`.
 *
 * @module
 */

/** One refused attempt. */
export interface RefusedRequest {
  /** `CONNECT` for HTTPS tunnels, else the HTTP method. */
  method: string;
  /** `host:port`. */
  target: string;
  /** The path, for plain HTTP requests (`""` for tunnels). */
  path: string;
}

/** A running proxy. */
export interface EgressProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Everything refused, in order. */
  readonly refused: RefusedRequest[];
  /** Distinct refused `host:port` targets, sorted. */
  refusedHosts(): string[];
  /** Forget the refused list (between runs). */
  clear(): void;
  close(): Promise<void>;
}

const HEAD_LIMIT = 64 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function indexOfHeadEnd(buf: Uint8Array, len: number): number {
  for (let i = 3; i < len; i++) {
    if (buf[i - 3] === 13 && buf[i - 2] === 10 && buf[i - 1] === 13 && buf[i] === 10) return i + 1;
  }
  return -1;
}

async function readHead(conn: Deno.Conn): Promise<{ head: string; rest: Uint8Array } | null> {
  const buf = new Uint8Array(HEAD_LIMIT);
  let len = 0;
  while (len < buf.length) {
    const n = await conn.read(buf.subarray(len));
    if (n === null) return null;
    len += n;
    const end = indexOfHeadEnd(buf, len);
    if (end >= 0) {
      return { head: decoder.decode(buf.subarray(0, end)), rest: buf.slice(end, len) };
    }
  }
  return null;
}

async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  try {
    await from.readable.pipeTo(to.writable, { preventClose: false });
  } catch { /* either side closed */ }
}

function refuse(conn: Deno.Conn, target: string): Promise<number> {
  const body = `isartor test proxy: ${target} is not allowed (tests reach loopback only)\n`;
  return conn.write(encoder.encode(
    `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n` +
      `connection: close\r\n\r\n${body}`,
  ));
}

/**
 * Starts the proxy on 127.0.0.1 (ephemeral port). `allow` lists `host:port` targets it tunnels
 * (only loopback ones are accepted).
 *
 * @example
 * ```ts
 * const proxy = await startEgressProxy(["127.0.0.1:8080"]);
 * // env: { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1,localhost" }
 * proxy.refusedHosts(); // e.g. ["registry.npmjs.org:443"]
 * await proxy.close();
 * ```
 */
export function startEgressProxy(allow: string[] = []): Promise<EgressProxy> {
  const allowed = new Set(
    allow.filter((t) => /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$/.test(t)),
  );
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const refused: RefusedRequest[] = [];
  const open = new Set<Deno.Conn>();

  const handle = async (conn: Deno.Conn) => {
    open.add(conn);
    let upstream: Deno.Conn | null = null;
    try {
      const got = await readHead(conn);
      if (got === null) return;
      const [method = "", uri = ""] = got.head.split("\r\n", 1)[0].split(" ");
      let target: string;
      let path = "";
      if (method === "CONNECT") {
        target = uri;
      } else {
        let url: URL;
        try {
          url = new URL(uri);
        } catch {
          await refuse(conn, uri);
          return;
        }
        target = url.port ? url.host : `${url.hostname}:${url.protocol === "https:" ? 443 : 80}`;
        path = url.pathname + url.search;
      }
      if (!allowed.has(target)) {
        refused.push({ method, target, path });
        await refuse(conn, target);
        return;
      }
      const i = target.lastIndexOf(":");
      upstream = await Deno.connect({
        hostname: target.slice(0, i).replace(/^\[|\]$/g, ""),
        port: Number(target.slice(i + 1)),
      });
      open.add(upstream);
      if (method === "CONNECT") {
        await conn.write(encoder.encode("HTTP/1.1 200 Connection established\r\n\r\n"));
      } else {
        // Origin-form request line; the rest of the head and body go as they came.
        const head = got.head.replace(/^(\S+) \S+/, `$1 ${path}`);
        await upstream.write(encoder.encode(head));
      }
      if (got.rest.length) await upstream.write(got.rest);
      await Promise.all([pipe(conn, upstream), pipe(upstream, conn)]);
    } catch {
      /* a client that went away */
    } finally {
      for (const c of [conn, upstream]) {
        if (c === null) continue;
        open.delete(c);
        try {
          c.close();
        } catch { /* already closed by pipeTo */ }
      }
    }
  };

  const accepting = (async () => {
    try {
      for await (const conn of listener) handle(conn);
    } catch { /* listener closed */ }
  })();

  return Promise.resolve({
    url: `http://127.0.0.1:${port}`,
    port,
    refused,
    refusedHosts: () => [...new Set(refused.map((r) => r.target))].sort(),
    clear: () => {
      refused.length = 0;
    },
    async close() {
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await accepting;
    },
  });
}
