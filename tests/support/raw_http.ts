/**
 * Raw HTTP/1.1 over a TCP socket, for requests `fetch` will not send as a
 * browser or an attacker would (a chosen `Host`, a body sent slowly).
 *
 * @module
 */

/** A parsed raw reply. */
export interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const encoder = new TextEncoder();

/** Parses a whole HTTP/1.1 reply (bodies with content-length or chunked). */
export function parseReply(text: string): RawReply {
  const end = text.indexOf("\r\n\r\n");
  const head = end < 0 ? text : text.slice(0, end);
  let body = end < 0 ? "" : text.slice(end + 4);
  const [statusLine, ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(":");
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  if (headers["transfer-encoding"] === "chunked") {
    let out = "";
    let rest = body;
    while (rest.length) {
      const nl = rest.indexOf("\r\n");
      const size = parseInt(rest.slice(0, nl), 16);
      if (!size) break;
      out += rest.slice(nl + 2, nl + 2 + size);
      rest = rest.slice(nl + 2 + size + 2);
    }
    body = out;
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body };
}

/** Whether `text` holds a whole reply (by content-length, or the last chunk). */
function complete(text: string): boolean {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const head = text.slice(0, end).toLowerCase();
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (length) return new TextEncoder().encode(text.slice(end + 4)).length >= Number(length[1]);
  if (head.includes("transfer-encoding: chunked")) return text.endsWith("0\r\n\r\n");
  return /^http\/1\.1 (1\d\d|204|304)/.test(head);
}

/** Reads the socket until a whole reply arrived or the server closes it. */
async function readAll(conn: Deno.Conn): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  const buf = new Uint8Array(16 * 1024);
  while (!complete(text)) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch {
      break;
    }
    if (n === null) break;
    text += decoder.decode(buf.subarray(0, n), { stream: true });
  }
  return text;
}

/**
 * Sends one request with exactly these headers (plus `connection: close`)
 * and returns the reply. `url` gives the address; `headers.host` is sent as given.
 */
export async function rawRequest(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body = "",
): Promise<RawReply> {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  try {
    const all: Record<string, string> = { connection: "close", ...headers };
    if (body || method === "POST") all["content-length"] = String(encoder.encode(body).length);
    const head = `${method} ${path} HTTP/1.1\r\n` +
      Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
    await conn.write(encoder.encode(head + body));
    return parseReply(await readAll(conn));
  } finally {
    try {
      conn.close();
    } catch { /* closed by the server */ }
  }
}

/** Opens a socket, writes `head` (and nothing more) and leaves it open for the caller. */
export async function openSlow(url: string, head: string): Promise<Deno.Conn> {
  const u = new URL(url);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  await conn.write(encoder.encode(head));
  return conn;
}

/** Reads the reply of a socket opened with {@link openSlow}, until the server closes it. */
export async function readReply(conn: Deno.Conn): Promise<RawReply> {
  try {
    return parseReply(await readAll(conn));
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}
