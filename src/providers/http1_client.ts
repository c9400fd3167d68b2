/**
 * The upstream HTTP client: HTTP/1.1 over pooled keep-alive connections.
 *
 * Why not `fetch`: on this path the gateway's own cost is what users pay on every cloud call,
 * and Deno's fetch spends about 20 µs of the single JS thread per request on Request/Headers
 * objects and body plumbing. Writing the request head and reading the reply over a kept
 * connection costs a third of that (bench: `deno task bench -- --only overhead`). It is also
 * more faithful: no `accept-encoding` or `user-agent` of our own is added, nothing is
 * decompressed, and header order is kept.
 *
 * What it does: one request per connection at a time, connections reused after a complete
 * reply (content-length, chunked, or read to close for HTTP/1.0 style replies), 1xx replies
 * skipped, idle connections dropped after `idleTimeoutMs`, and a request on a reused
 * connection that the server had already closed (no reply byte read) is sent once more on a
 * fresh one, as browsers and hyper do. `http:` and `https:` (TLS with ALPN `http/1.1`).
 * Anything it cannot parse ends the call with an error; it never guesses.
 *
 * @module
 */

/** Reply headers: lower-case names, in the order received. */
export interface ReplyHeaders extends Iterable<[string, string]> {
  /** The first value of a header (names are matched lower-case), or null. */
  get(name: string): string | null;
}

/** One reply: status, headers and a body read whole or as a live stream. */
export interface UpstreamReplyHead {
  status: number;
  headers: ReplyHeaders;
  /** Reads the whole body (at most once, instead of `stream()`). */
  bytes(): Promise<Uint8Array<ArrayBuffer>>;
  /** The body as it arrives (at most once, instead of `bytes()`); cancel closes the connection. */
  stream(): ReadableStream<Uint8Array>;
}

/** Sends one POST upstream. */
export interface UpstreamClient {
  post(
    url: string,
    headers: Record<string, string>,
    body: Uint8Array | string,
    options: PostOptions,
  ): Promise<UpstreamReplyHead>;
  /** Closes idle connections. */
  close(): void;
}

/** Options of the pooled client. */
export interface Http1ClientOptions {
  /** Idle connections older than this are closed instead of reused (default 4 s). */
  idleTimeoutMs?: number;
  /** Idle connections kept per origin (default 256). */
  maxIdlePerOrigin?: number;
  /** Extra CA certificates (PEM), for tests against a private TLS server. */
  caCerts?: string[];
}

const MAX_HEAD_BYTES = 256 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Raised when a connection ended before the reply did. */
export class UpstreamConnectionError extends Error {
  override name = "UpstreamConnectionError";
}

/** Raised when the reply did not arrive within `timeoutMs`. */
export class UpstreamTimeoutError extends Error {
  override name = "UpstreamTimeoutError";
}

/** Options of one call. */
export interface PostOptions {
  /** The client's signal: an abort ends the call (with its reason) and closes the connection. */
  signal: AbortSignal;
  /** Time for the reply head, and for a body read whole, before UpstreamTimeoutError. */
  timeoutMs: number;
}

/** Bounds of the sweep interval: the precision of deadlines and of abort detection. */
const SWEEP_MIN_MS = 5;
const SWEEP_MAX_MS = 100;

/** One call in flight, as the sweep sees it. */
interface Flight {
  signal: AbortSignal;
  deadline: number;
  conn: Connection | null;
  timedOut: boolean;
  /** Ends a wait that has no connection to close yet (connecting). */
  expire: (() => void) | null;
}

/** The error a call ends with: the client's abort reason, a timeout, or the failure itself. */
function flightError(flight: Flight, e: unknown): unknown {
  if (flight.signal.aborted) return flight.signal.reason;
  if (flight.timedOut) return new UpstreamTimeoutError("the upstream did not reply in time");
  return e;
}

/** A parsed origin, cached per URL string. */
interface Origin {
  key: string;
  tls: boolean;
  hostname: string;
  port: number;
  hostHeader: string;
  path: string;
}

class HeaderList implements ReplyHeaders {
  constructor(readonly entries: [string, string][]) {}
  get(name: string): string | null {
    const n = name.toLowerCase();
    for (const [k, v] of this.entries) if (k === n) return v;
    return null;
  }
  [Symbol.iterator](): Iterator<[string, string]> {
    return this.entries[Symbol.iterator]();
  }
}

/** A connection with its read buffer. */
class Connection {
  buf = new Uint8Array(16 * 1024);
  start = 0;
  end = 0;
  idleSince = 0;
  closed = false;
  /** Whether any byte of the current request's reply arrived (else a failure is "stale"). */
  gotReply = false;

  constructor(readonly conn: Deno.Conn, readonly origin: Origin) {}

  get available(): number {
    return this.end - this.start;
  }

  /** Reads more bytes into the buffer; false at end of stream. */
  async fill(): Promise<boolean> {
    if (this.start > 0 && this.start === this.end) this.start = this.end = 0;
    if (this.end === this.buf.length) {
      if (this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      } else {
        const bigger = new Uint8Array(this.buf.length * 2);
        bigger.set(this.buf);
        this.buf = bigger;
      }
    }
    const n = await this.conn.read(this.buf.subarray(this.end));
    if (n === null) return false;
    this.end += n;
    this.gotReply = true;
    return true;
  }

  /** Takes up to `max` buffered bytes (a copy). */
  take(max: number): Uint8Array<ArrayBuffer> {
    const n = Math.min(max, this.available);
    const out = this.buf.slice(this.start, this.start + n);
    this.start += n;
    return out;
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }
}

/** Where the body ends: a length, chunked framing, or the connection's end. */
type Framing =
  | { kind: "none" }
  | { kind: "length"; remaining: number }
  | { kind: "chunked"; remaining: number; done: boolean }
  | { kind: "close" };

/**
 * The pooled HTTP/1.1 client.
 *
 * @example
 * ```ts ignore
 * const client = new Http1Client();
 * const reply = await client.post(url, { "content-type": "application/json" }, body, {
 *   signal,
 *   timeoutMs: 120_000,
 * });
 * const bytes = await reply.bytes();
 * ```
 */
export class Http1Client implements UpstreamClient {
  readonly #idle = new Map<string, Connection[]>();
  readonly #origins = new Map<string, Origin>();
  readonly #idleTimeoutMs: number;
  readonly #maxIdle: number;
  readonly #caCerts: string[] | undefined;
  readonly #inFlight = new Set<Flight>();
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #sweepEvery = Infinity;

  constructor(options: Http1ClientOptions = {}) {
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 4000;
    this.#maxIdle = options.maxIdlePerOrigin ?? 256;
    this.#caCerts = options.caCerts;
  }

  async post(
    url: string,
    headers: Record<string, string>,
    body: Uint8Array | string,
    options: PostOptions,
  ): Promise<UpstreamReplyHead> {
    const { signal } = options;
    signal.throwIfAborted();
    const origin = this.#origin(url);
    const bytes = typeof body === "string" ? encoder.encode(body) : body;
    const message = requestBytes(origin, headers, bytes);
    const flight: Flight = {
      signal,
      deadline: performance.now() + options.timeoutMs,
      conn: null,
      timedOut: false,
      expire: null,
    };
    this.#watch(flight, options.timeoutMs);
    // A kept connection the server closed meanwhile fails before any reply byte: send again
    // on a fresh one. A fresh connection's failure is the caller's to handle.
    for (;;) {
      const reused = this.#takeIdle(origin);
      let conn: Connection | null = reused;
      try {
        conn ??= await this.#connect(origin, flight);
        flight.conn = conn;
        conn.gotReply = false;
        await writeAll(conn.conn, message);
        const head = await readHead(conn, reused !== null);
        if (head === STALE) {
          conn.destroy();
          continue;
        }
        return this.#reply(conn, head, flight);
      } catch (e) {
        conn?.destroy();
        if (reused && !conn!.gotReply && isStaleError(e) && !flight.timedOut && !signal.aborted) {
          continue;
        }
        this.#unwatch(flight);
        throw flightError(flight, e);
      }
    }
  }

  /**
   * Deadlines and client aborts are checked by one sweep over the calls in flight instead of
   * a timer and an abort listener per call: they cost more than the rest of a call's JS.
   */
  #watch(flight: Flight, timeoutMs: number): void {
    this.#inFlight.add(flight);
    const every = Math.min(SWEEP_MAX_MS, Math.max(SWEEP_MIN_MS, timeoutMs / 10));
    if (this.#sweeper !== undefined && every >= this.#sweepEvery) return;
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweepEvery = every;
    this.#sweeper = setInterval(() => this.#sweep(), every);
    Deno.unrefTimer(this.#sweeper);
  }

  #unwatch(flight: Flight): void {
    this.#inFlight.delete(flight);
  }

  #sweep(): void {
    if (this.#inFlight.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
      return;
    }
    const now = performance.now();
    for (const flight of this.#inFlight) {
      const aborted = flight.signal.aborted;
      if (!aborted && now < flight.deadline) continue;
      flight.timedOut = !aborted;
      this.#inFlight.delete(flight);
      flight.conn?.destroy();
      flight.expire?.();
    }
  }

  close(): void {
    for (const list of this.#idle.values()) for (const c of list) c.destroy();
    this.#idle.clear();
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  #origin(url: string): Origin {
    let origin = this.#origins.get(url);
    if (origin) return origin;
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      throw new TypeError(`unsupported upstream URL scheme: ${u.protocol}`);
    }
    const tls = u.protocol === "https:";
    const hostname = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
    origin = {
      key: `${u.protocol}//${u.host}`,
      tls,
      hostname,
      port: u.port ? Number(u.port) : tls ? 443 : 80,
      hostHeader: u.host,
      path: `${u.pathname}${u.search}`,
    };
    if (this.#origins.size > 1000) this.#origins.clear();
    this.#origins.set(url, origin);
    return origin;
  }

  #takeIdle(origin: Origin): Connection | null {
    const list = this.#idle.get(origin.key);
    if (!list) return null;
    const now = performance.now();
    while (list.length > 0) {
      const conn = list.pop()!;
      if (now - conn.idleSince < this.#idleTimeoutMs && !conn.closed) return conn;
      conn.destroy();
    }
    return null;
  }

  #putIdle(conn: Connection): void {
    if (conn.closed) return;
    // Bytes after a complete reply mean the stream is out of step: never reuse it.
    if (conn.available > 0) return conn.destroy();
    conn.start = conn.end = 0;
    let list = this.#idle.get(conn.origin.key);
    if (!list) this.#idle.set(conn.origin.key, list = []);
    if (list.length >= this.#maxIdle) return conn.destroy();
    conn.idleSince = performance.now();
    list.push(conn);
  }

  /** Opens a connection; a deadline or abort meanwhile ends the wait (and closes it later). */
  async #connect(origin: Origin, flight: Flight): Promise<Connection> {
    const opening = origin.tls
      ? Deno.connectTls({
        hostname: origin.hostname,
        port: origin.port,
        alpnProtocols: ["http/1.1"],
        caCerts: this.#caCerts,
      })
      : Deno.connect({ hostname: origin.hostname, port: origin.port });
    const expired = new Promise<never>((_, reject) => {
      flight.expire = () => reject(new UpstreamConnectionError("the connection was not opened"));
    });
    let conn: Deno.Conn;
    try {
      conn = await Promise.race([opening, expired]);
    } catch (e) {
      opening.then((c) => c.close(), () => {});
      throw e;
    } finally {
      flight.expire = null;
    }
    if (!origin.tls) (conn as Deno.TcpConn).setNoDelay(true);
    return new Connection(conn, origin);
  }

  #reply(conn: Connection, head: ParsedHead, flight: Flight): UpstreamReplyHead {
    let consumed = false;
    const framing = head.framing;
    const finish = () => {
      this.#unwatch(flight);
      if (head.keepAlive && framing.kind !== "close") this.#putIdle(conn);
      else conn.destroy();
    };
    const fail = (e: unknown): never => {
      this.#unwatch(flight);
      conn.destroy();
      throw flightError(flight, e);
    };
    const claim = () => {
      if (consumed) throw new TypeError("the reply body was already read");
      consumed = true;
    };
    if (framing.kind === "none") finish();
    return {
      status: head.status,
      headers: head.headers,
      bytes: async () => {
        claim();
        if (framing.kind === "none") return new Uint8Array(0);
        try {
          // The common case: a length-framed reply already in the buffer.
          if (framing.kind === "length" && conn.available >= framing.remaining) {
            const out = conn.take(framing.remaining);
            framing.remaining = 0;
            finish();
            return out;
          }
          const parts: Uint8Array[] = [];
          let total = 0;
          for (;;) {
            const part = await readBodyPart(conn, framing);
            if (part === null) break;
            parts.push(part);
            total += part.length;
          }
          finish();
          return concat(parts, total);
        } catch (e) {
          return fail(e);
        }
      },
      stream: () => {
        claim();
        // A stream's pace is its reader's business (the cloud layer's idle timeout); a cancel
        // closes the connection.
        this.#unwatch(flight);
        if (framing.kind === "none") return new ReadableStream({ start: (c) => c.close() });
        let ended = false;
        return new ReadableStream<Uint8Array>({
          pull: async (out) => {
            try {
              const part = await readBodyPart(conn, framing);
              if (part === null) {
                ended = true;
                finish();
                out.close();
              } else out.enqueue(part);
            } catch (e) {
              ended = true;
              try {
                fail(e);
              } catch (reason) {
                out.error(reason);
              }
            }
          },
          cancel: () => {
            if (ended) return;
            ended = true;
            conn.destroy();
          },
        });
      },
    };
  }
}

/** The request head and body in one buffer: one write per request. */
function requestBytes(
  origin: Origin,
  headers: Record<string, string>,
  body: Uint8Array,
): Uint8Array {
  let head = `POST ${origin.path} HTTP/1.1\r\nhost: ${origin.hostHeader}\r\n`;
  for (const name in headers) {
    const value = headers[name];
    if (UNSAFE_HEADER.test(name) || UNSAFE_VALUE.test(value)) {
      throw new TypeError(`header ${JSON.stringify(name)} has a character HTTP does not allow`);
    }
    const lower = name.toLowerCase();
    if (lower === "host" || lower === "content-length" || lower === "transfer-encoding") continue;
    head += `${name}: ${value}\r\n`;
  }
  head += `content-length: ${body.length}\r\n\r\n`;
  // Header values are byte strings (Latin-1), as fetch sends them: one byte per character.
  const out = new Uint8Array(head.length + body.length);
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    if (c > 255) throw new TypeError("a header value has a character outside Latin-1");
    out[i] = c;
  }
  out.set(body, head.length);
  return out;
}

/** A header name must be a token; a value must not break the line. */
const UNSAFE_HEADER = /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const UNSAFE_VALUE = /[\r\n\0]/;

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/** A reused connection closed by the server before it read our request. */
function isStaleError(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.ConnectionAborted ||
    e instanceof Deno.errors.NotConnected;
}

const STALE = Symbol("stale");

interface ParsedHead {
  status: number;
  headers: HeaderList;
  framing: Framing;
  keepAlive: boolean;
}

/** Index just past the first CRLFCRLF at or after `from`, or -1. */
function headEnd(buf: Uint8Array, from: number, to: number): number {
  for (let i = from + 3; i < to; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) {
      return i + 1;
    }
  }
  return -1;
}

/** Reads and parses one reply head, skipping 1xx replies. */
async function readHead(conn: Connection, reused: boolean): Promise<ParsedHead | typeof STALE> {
  let scanned = conn.start;
  for (;;) {
    const end = headEnd(conn.buf, scanned, conn.end);
    if (end < 0) {
      if (conn.available > MAX_HEAD_BYTES) {
        throw new UpstreamConnectionError("the upstream's reply head is larger than 256 KiB");
      }
      scanned = Math.max(conn.start, conn.end - 3);
      const before = conn.start;
      const more = await conn.fill();
      scanned -= before - conn.start;
      if (!more) {
        if (reused && !conn.gotReply) return STALE;
        throw new UpstreamConnectionError("the upstream closed the connection before replying");
      }
      continue;
    }
    const text = latin1(conn.buf.subarray(conn.start, end - 4));
    conn.start = end;
    scanned = end;
    const head = parseHead(text);
    if (head) return head;
  }
}

/** Parses a reply head; null for a 1xx reply that another head follows. */
function parseHead(text: string): ParsedHead | null {
  const lines = text.split("\r\n");
  const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0]);
  if (!statusLine) {
    throw new UpstreamConnectionError(
      `the upstream did not answer in HTTP/1.x: ${JSON.stringify(lines[0].slice(0, 80))}`,
    );
  }
  const status = Number(statusLine[2]);
  if (status >= 100 && status < 200 && status !== 101) return null;
  const entries: [string, string][] = [];
  let length = -1;
  let chunked = false;
  let connection = "";
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    if (colon <= 0) {
      throw new UpstreamConnectionError(
        `the upstream sent a malformed header line: ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    entries.push([name, value]);
    if (name === "content-length") {
      const n = Number(value);
      if (!/^\d+$/.test(value) || (length >= 0 && length !== n)) {
        throw new UpstreamConnectionError(`the upstream sent a bad content-length: ${value}`);
      }
      length = n;
    } else if (name === "transfer-encoding") {
      chunked = value.toLowerCase().split(",").map((s) => s.trim()).includes("chunked");
    } else if (name === "connection") connection += `${value.toLowerCase()},`;
  }
  const http10 = statusLine[1] === "0";
  const keepAlive = http10 ? connection.includes("keep-alive") : !connection.includes("close");
  const framing: Framing = status === 204 || status === 304 || status === 101
    ? { kind: "none" }
    : chunked
    ? { kind: "chunked", remaining: -1, done: false }
    : length >= 0
    ? (length === 0 ? { kind: "none" } : { kind: "length", remaining: length })
    : { kind: "close" };
  return { status, headers: new HeaderList(entries), framing, keepAlive };
}

/** The next piece of body data as it arrives, or null at the body's end. */
async function readBodyPart(conn: Connection, framing: Framing): Promise<Uint8Array | null> {
  switch (framing.kind) {
    case "none":
      return null;
    case "length": {
      if (framing.remaining === 0) return null;
      if (conn.available === 0 && !(await conn.fill())) {
        throw new UpstreamConnectionError("the upstream closed the connection mid-body");
      }
      const part = conn.take(framing.remaining);
      framing.remaining -= part.length;
      return part;
    }
    case "close": {
      if (conn.available === 0 && !(await conn.fill())) return null;
      return conn.take(conn.available);
    }
    case "chunked":
      return await readChunked(conn, framing);
  }
}

/** Reads one CRLF-terminated line of the chunked framing (size or trailer). */
async function readLine(conn: Connection): Promise<string> {
  for (;;) {
    for (let i = conn.start + 1; i < conn.end; i++) {
      if (conn.buf[i] === 10 && conn.buf[i - 1] === 13) {
        const line = decoder.decode(conn.buf.subarray(conn.start, i - 1));
        conn.start = i + 1;
        return line;
      }
    }
    if (conn.available > 64 * 1024) {
      throw new UpstreamConnectionError("the upstream sent a chunk-size line over 64 KiB");
    }
    if (!(await conn.fill())) {
      throw new UpstreamConnectionError("the upstream closed the connection mid-body");
    }
  }
}

async function readChunked(
  conn: Connection,
  framing: { kind: "chunked"; remaining: number; done: boolean },
): Promise<Uint8Array | null> {
  for (;;) {
    if (framing.done) return null;
    if (framing.remaining > 0) {
      if (conn.available === 0 && !(await conn.fill())) {
        throw new UpstreamConnectionError("the upstream closed the connection mid-body");
      }
      const part = conn.take(framing.remaining);
      framing.remaining -= part.length;
      return part;
    }
    if (framing.remaining === 0) {
      // The CRLF that ends a chunk's data.
      if ((await readLine(conn)) !== "") {
        throw new UpstreamConnectionError("the upstream's chunked body is malformed");
      }
    }
    const sizeLine = await readLine(conn);
    const size = parseInt(sizeLine.split(";", 1)[0].trim(), 16);
    if (!Number.isFinite(size) || size < 0 || !/^[0-9a-fA-F]+/.test(sizeLine.trim())) {
      throw new UpstreamConnectionError(
        `the upstream's chunked body is malformed: ${JSON.stringify(sizeLine.slice(0, 40))}`,
      );
    }
    if (size === 0) {
      while ((await readLine(conn)) !== "");
      framing.done = true;
      return null;
    }
    framing.remaining = size;
  }
}

/** Header bytes as a byte string (one character per byte), as fetch exposes them. */
function latin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]);
  }
  return out;
}

function concat(parts: Uint8Array[], total: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * `fetch` behind the same interface: for upstreams reached through an HTTP proxy
 * (`HTTPS_PROXY` and friends, which Deno's fetch honours) or when `l3_http_client = "fetch"`.
 */
export class FetchClient implements UpstreamClient {
  async post(
    url: string,
    headers: Record<string, string>,
    body: Uint8Array | string,
    options: PostOptions,
  ): Promise<UpstreamReplyHead> {
    const ctrl = new AbortController();
    const onAbort = () => ctrl.abort(options.signal.reason);
    options.signal.addEventListener("abort", onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctrl.abort(new UpstreamTimeoutError("the upstream did not reply in time"));
    }, options.timeoutMs);
    const done = () => {
      clearTimeout(timer);
      options.signal.removeEventListener("abort", onAbort);
    };
    const fail = (e: unknown): never => {
      done();
      if (options.signal.aborted) throw options.signal.reason;
      if (timedOut) throw new UpstreamTimeoutError("the upstream did not reply in time");
      throw e;
    };
    const res = await fetch(url, {
      method: "POST",
      headers,
      body: body as BodyInit,
      signal: ctrl.signal,
    })
      .catch(fail);
    return {
      status: res.status,
      headers: res.headers,
      bytes: async () => {
        try {
          const bytes = new Uint8Array(await res.arrayBuffer());
          done();
          return bytes;
        } catch (e) {
          return fail(e);
        }
      },
      stream: () => {
        // The stream's pace is its reader's business; a client abort still ends it.
        clearTimeout(timer);
        return res.body ?? new ReadableStream({ start: (c) => c.close() });
      },
    };
  }
  close(): void {}
}
