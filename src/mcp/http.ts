/**
 * MCP over Streamable HTTP at `/mcp`: the SDK's web-standard transport (one
 * per session), sessions that expire after an idle time, each bound to the
 * tenant that opened it.
 *
 * The gateway's browser guard (Origin, Host, content type: origin_guard.ts)
 * and auth middleware (bearer key when `gateway_api_key` is set) run before this. A session is a capability: a request that names
 * another tenant's session, an unknown one or an expired one gets `404`, and
 * the client initializes again (as the MCP spec asks of clients).
 *
 * @module
 */

import { type McpServer, WebStandardStreamableHTTPServerTransport } from "./sdk.ts";
import { type FetchLike, GatewayApi } from "./gateway_api.ts";
import { createMcpServer } from "./server.ts";

/** Most sessions kept at once; past it the one idle longest is closed. */
export const MAX_SESSIONS = 256;

/** Settings of the `/mcp` endpoint. */
export interface McpHttpOptions {
  /** The gateway's own request handler: the tools call the gateway's API through it. */
  gatewayFetch: FetchLike;
  version: string;
  /** How long a session may sit idle before it expires. */
  idleMs: number;
  /** The largest request body the transport reads. */
  maxBodyBytes: number;
  /** The configured tenant header, forwarded to the tools' calls. */
  tenantHeader: string;
  /** The clock (tests move it). */
  now?: () => number;
  maxSessions?: number;
}

interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  server: McpServer;
  tenant: string;
  lastSeen: number;
}

/** A JSON-RPC error response, as MCP clients expect from the transport. */
function rpcError(status: number, code: number, message: string): Response {
  return new Response(
    JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }),
    { status, headers: { "content-type": "application/json" } },
  );
}

/** The headers of the opening request that the tools' gateway calls carry on. */
const FORWARDED = ["authorization", "x-api-key"];

/** The `/mcp` endpoint: routes each request to its session's transport. */
export class McpHttpEndpoint {
  readonly #sessions = new Map<string, Session>();
  readonly #now: () => number;

  constructor(readonly options: McpHttpOptions) {
    this.#now = options.now ?? Date.now;
  }

  /** Open sessions (expired ones are swept on the next request). */
  get size(): number {
    return this.#sessions.size;
  }

  /** Serves one request of an authenticated caller's `tenant`. */
  async handle(req: Request, tenant: string): Promise<Response> {
    await this.#sweep();
    const id = req.headers.get("mcp-session-id");
    if (id !== null) {
      const session = this.#sessions.get(id);
      if (!session || session.tenant !== tenant) {
        return rpcError(
          404,
          -32001,
          "session not found or expired; fix: start a new session (send initialize without Mcp-Session-Id)",
        );
      }
      session.lastSeen = this.#now();
      return await session.transport.handleRequest(req);
    }
    if (req.method !== "POST") {
      return rpcError(
        400,
        -32000,
        `${req.method} /mcp needs an Mcp-Session-Id header; fix: initialize a session first with POST /mcp`,
      );
    }
    return await this.#open(req, tenant);
  }

  /** Opens a session for an initialize request (the transport refuses anything else). */
  async #open(req: Request, tenant: string): Promise<Response> {
    const headers: Record<string, string> = { "user-agent": `isartor-mcp/${this.options.version}` };
    for (const name of [...FORWARDED, this.options.tenantHeader.toLowerCase()]) {
      const value = name ? req.headers.get(name) : null;
      if (value !== null) headers[name] = value;
    }
    const api = new GatewayApi({
      baseUrl: "http://isartor.internal",
      fetch: this.options.gatewayFetch,
      headers,
    });
    const server = createMcpServer(api, this.options.version);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      maxRequestBodySize: this.options.maxBodyBytes,
      onsessioninitialized: (id) => {
        this.#sessions.set(id, { transport, server, tenant, lastSeen: this.#now() });
      },
      onsessionclosed: (id) => {
        this.#sessions.delete(id);
      },
    });
    await server.connect(transport);
    const res = await transport.handleRequest(req);
    if (transport.sessionId === undefined) {
      // Not an initialize request: the transport answered 400 and keeps nothing.
      await server.close();
    } else {
      await this.#evictOverflow();
    }
    return res;
  }

  async #sweep(): Promise<void> {
    const cutoff = this.#now() - this.options.idleMs;
    for (const [id, s] of this.#sessions) {
      if (s.lastSeen <= cutoff) await this.#close(id, s);
    }
  }

  async #evictOverflow(): Promise<void> {
    const max = this.options.maxSessions ?? MAX_SESSIONS;
    while (this.#sessions.size > max) {
      let oldest: [string, Session] | null = null;
      for (const entry of this.#sessions) {
        if (!oldest || entry[1].lastSeen < oldest[1].lastSeen) oldest = entry;
      }
      await this.#close(oldest![0], oldest![1]);
    }
  }

  async #close(id: string, s: Session): Promise<void> {
    this.#sessions.delete(id);
    await s.server.close().catch(() => {});
  }

  /** Closes every session (the gateway is stopping). */
  async close(): Promise<void> {
    for (const [id, s] of [...this.#sessions]) await this.#close(id, s);
  }
}
