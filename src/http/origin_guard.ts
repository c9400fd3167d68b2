/**
 * The browser guard: what keeps a web page the user happens to visit from
 * using the gateway (cross-site requests, DNS rebinding).
 *
 * Local model servers learned this the hard way. A page can send "simple"
 * cross-site POSTs (`text/plain`, no preflight) that spend credits or plant
 * cache entries, and a page on a domain rebound to 127.0.0.1 reaches the
 * gateway as its own origin. So, before any route runs:
 *
 * - a `Host` must name the bind address, a loopback name (`localhost`,
 *   `127.x.x.x`, `[::1]`) or one of `allowed_hosts` (on a wildcard bind, any
 *   IP literal too: a rebound name is never an IP literal);
 * - an `Origin`, when sent, must be the gateway's own (`http://<Host>`, the
 *   dashboard) or one of `allowed_origins`; WebSocket upgrades included;
 * - a `POST`/`PUT`/`PATCH` must say `Content-Type: application/json`, a type a
 *   page cannot send cross-site without a preflight;
 * - a CORS preflight is answered only for an allowed origin.
 *
 * Real clients (SDKs, curl, agent CLIs) send no `Origin` and JSON, so they pass.
 *
 * @module
 */

import { GatewayError } from "./errors.ts";

/** What the guard allows, from config. */
export interface OriginPolicy {
  /** The configured bind host (`host_port` without the port). */
  bindHost: string;
  /** Extra `Host` names accepted (`allowed_hosts`), e.g. `isartor.internal`, `mybox.local`. */
  allowedHosts: readonly string[];
  /** Cross-origin pages allowed to call (`allowed_origins`), e.g. `http://localhost:3000`. */
  allowedOrigins: readonly string[];
}

/** Turns a refusal into the response of the caller's protocol (the app's error path). */
export type Refuse = (
  err: GatewayError,
  path: string,
  method: string,
  headers: Headers,
) => Response;

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The host name of a `Host` header value, lowercased, IPv6 without brackets. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end < 0 ? h : h.slice(1, end);
  }
  const colon = h.indexOf(":");
  return colon < 0 ? h : h.slice(0, colon);
}

function isIpLiteral(name: string): boolean {
  return IPV4.test(name) || name.includes(":");
}

function normalizeOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, "");
}

/** Whether a media type is JSON (`application/json`, with or without parameters). */
export function isJsonContentType(value: string | null): boolean {
  if (value === null) return false;
  const semi = value.indexOf(";");
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  return type === "application/json";
}

/** The checks of one policy, precomputed. */
export class OriginGuard {
  readonly #hosts: Set<string>;
  readonly #origins: Set<string>;
  readonly #wildcard: boolean;

  constructor(policy: OriginPolicy) {
    const bind = hostName(
      policy.bindHost.includes(":") && !policy.bindHost.startsWith("[")
        ? `[${policy.bindHost}]`
        : policy.bindHost,
    );
    this.#wildcard = bind === "0.0.0.0" || bind === "::";
    this.#hosts = new Set([...LOOPBACK_NAMES, bind, ...policy.allowedHosts.map(hostName)]);
    this.#origins = new Set(policy.allowedOrigins.map(normalizeOrigin));
  }

  /** Whether a `Host` header value is one the gateway answers to. */
  hostAllowed(host: string): boolean {
    const name = hostName(host);
    return this.#hosts.has(name) || /^127\.\d+\.\d+\.\d+$/.test(name) ||
      (this.#wildcard && isIpLiteral(name));
  }

  /**
   * Whether an `Origin` may call: one of `allowed_origins`, or the gateway's
   * own origin (the page was served by this gateway under this `Host`).
   */
  originAllowed(origin: string, host: string | null): boolean {
    const o = normalizeOrigin(origin);
    if (this.#origins.has(o)) return true;
    return host !== null && (o === `http://${host.toLowerCase()}` ||
      o === `https://${host.toLowerCase()}`);
  }

  /**
   * The refusal of a request, or null when it may proceed. Only the
   * headers are read; the body is left alone.
   */
  refusal(req: Request): GatewayError | null {
    const headers = req.headers;
    // A browser always sends Host; an in-process Request may not.
    const host = headers.get("host");
    if (host !== null && !this.hostAllowed(host)) {
      return new GatewayError(
        403,
        "permission_error",
        `Host "${host}" is not an address of this gateway (a page on a rebound domain?); fix: call it as 127.0.0.1 or localhost, or add the name to allowed_hosts`,
      );
    }
    const origin = headers.get("origin");
    if (origin !== null && !this.originAllowed(origin, host)) {
      return new GatewayError(
        403,
        "permission_error",
        `requests from the web page at ${origin} are refused; fix: add that origin to allowed_origins if it should call the gateway`,
      );
    }
    const m = req.method;
    if (
      (m === "POST" || m === "PUT" || m === "PATCH") &&
      !isJsonContentType(headers.get("content-type"))
    ) {
      return new GatewayError(
        415,
        "invalid_request_error",
        `Content-Type ${
          headers.get("content-type") ?? "(none)"
        } is not accepted; fix: send the JSON body with Content-Type: application/json`,
      );
    }
    return null;
  }

  /** The CORS headers for a request from an allowed origin other than our own. */
  corsHeaders(origin: string): Record<string, string> {
    return {
      "access-control-allow-origin": origin,
      "access-control-expose-headers":
        "x-isartor-layer, x-isartor-request-id, x-isartor-deflected, x-isartor-cache-key, x-isartor-provider, age",
      "vary": "Origin",
    };
  }

  /**
   * Answers a CORS preflight: 204 with the CORS headers for an allowed
   * origin; the refusal for any other (the browser then sends nothing).
   */
  preflight(req: Request): Response {
    const origin = req.headers.get("origin") ?? "";
    const requested = req.headers.get("access-control-request-headers");
    return new Response(null, {
      status: 204,
      headers: {
        ...this.corsHeaders(origin),
        "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
        "access-control-allow-headers": requested ?? "authorization, content-type, x-api-key",
        "access-control-max-age": "600",
      },
    });
  }
}

function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

/**
 * Wraps the gateway's handler with the guard: refused requests never reach a
 * route; preflights of allowed origins are answered here; answers to allowed
 * cross-origin pages carry the CORS headers.
 */
export function withOriginGuard(
  policy: OriginPolicy,
  handler: (req: Request) => Promise<Response>,
  refuse: Refuse,
): (req: Request) => Promise<Response> {
  const guard = new OriginGuard(policy);
  return async (req) => {
    const refused = guard.refusal(req);
    if (refused) return refuse(refused, pathOf(req.url), req.method, req.headers);
    const origin = req.headers.get("origin");
    if (origin === null) return handler(req);
    if (req.method === "OPTIONS" && req.headers.has("access-control-request-method")) {
      return guard.preflight(req);
    }
    const res = await handler(req);
    const host = req.headers.get("host");
    const own = host !== null && guard.originAllowed(origin, host) &&
      normalizeOrigin(origin).endsWith(`//${host.toLowerCase()}`);
    if (own || res.status === 101) return res;
    try {
      for (const [k, v] of Object.entries(guard.corsHeaders(origin))) res.headers.set(k, v);
      return res;
    } catch {
      // Immutable headers (a relayed Response): copy them once.
      const headers = new Headers(res.headers);
      for (const [k, v] of Object.entries(guard.corsHeaders(origin))) headers.set(k, v);
      return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
    }
  };
}
