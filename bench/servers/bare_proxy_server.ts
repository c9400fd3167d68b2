/**
 * A bare `Deno.serve` + `fetch` reverse proxy, what the simplest Deno gateway pays: it reads the
 * request body, forwards it with the content type and credentials, and streams the upstream
 * response back. No routing, parsing or validation. Measured beside the gateway, it separates the
 * runtime's cost (an extra HTTP hop in JavaScript) from the gateway's own code. (The gateway does
 * not use fetch upstream but its own pooled HTTP/1.1 client, which is why it can match this.)
 *
 * Usage: `deno run --allow-net=127.0.0.1 bench/servers/bare_proxy_server.ts --upstream <url>`.
 * Prints `{"url": ...}` once listening, then serves until killed.
 *
 * @module
 */

import { flag, parseFlags } from "../args.ts";
import { announce } from "./spawn.ts";

const upstream = flag(parseFlags(Deno.args), "upstream");
if (!upstream) {
  console.error("usage: bare_proxy_server.ts --upstream <url>");
  Deno.exit(2);
}

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
  const url = new URL(req.url);
  const headers = new Headers({ "content-type": "application/json" });
  const auth = req.headers.get("authorization");
  if (auth) headers.set("authorization", auth);
  const res = await fetch(`${upstream}${url.pathname}`, {
    method: req.method,
    headers,
    body: req.method === "GET" ? undefined : await req.arrayBuffer(),
    signal: req.signal,
  });
  const out = new Headers();
  const type = res.headers.get("content-type");
  if (type) out.set("content-type", type);
  return new Response(res.body, { status: res.status, headers: out });
});
announce({ url: `http://127.0.0.1:${server.addr.port}` });
