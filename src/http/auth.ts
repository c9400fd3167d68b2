/**
 * Gateway authentication and the caller's identity.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import type { ClientCredentialHeader } from "../pipeline/types.ts";
import type { GatewayKeyEntry, GatewayKeyRing } from "./gateway_keys.ts";

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

/** Compares two secrets in constant time (hashing first so lengths never leak). */
export function secretEquals(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** Who is calling, as far as the gateway can tell. */
export interface Caller {
  /** Whether the call passed the gateway key check (always true when no key is set). */
  authorized: boolean;
  /** The client's provider credential, when it is not the gateway key (pass-through auth). */
  clientCredential: { header: ClientCredentialHeader; value: string } | null;
  /** The cache partition of this caller. */
  tenant: string;
  /** Whether the caller sees every tenant in the stats (`admin_api_key`, or a keyless gateway). */
  admin: boolean;
  /** The per-tenant key (`gateway_keys`) the call came with, if any: its quota applies. */
  key?: GatewayKeyEntry | null;
  /** Charges provider tokens to the key's quota (set by the edge when the key has one). */
  charge?: (tokens: number) => void;
}

const tagCache = new Map<string, string>();

/**
 * A short, non-reversible tag for a secret: partitions never reveal keys.
 * Memoized (a client sends the same credential on every request).
 */
export function secretTag(secret: string): string {
  let tag = tagCache.get(secret);
  if (tag === undefined) {
    tag = digest(secret).toString("hex").slice(0, 32);
    if (tagCache.size >= 1024) tagCache.clear();
    tagCache.set(secret, tag);
  }
  return tag;
}

const BEARER = /^Bearer\s+(\S.*)$/i;

/** What {@linkcode identifyCaller} checks a request against (the config's keys). */
export interface AuthSettings {
  /** `gateway_api_key`: one key for every caller ("" when unset). */
  gatewayKey: string;
  /** `tenant_header`: the header a trusted proxy names the tenant in ("" when unset). */
  tenantHeader: string;
  /** Gemini's `?key=` from the URL, on Gemini routes only. */
  queryKey?: string | null;
  /** `admin_api_key` ("" when unset). */
  adminKey?: string;
  /** `gateway_keys`: per-tenant keys. */
  keys?: GatewayKeyRing | null;
}

/**
 * Checks the gateway key (`Authorization: Bearer <key>`, `x-api-key`, and
 * Gemini's `x-goog-api-key` or `?key=`; a bare `Authorization: <key>` is not
 * a documented form and is refused) and works out the tenant:
 *
 * - a per-tenant key (`gateway_keys`) gives its own tenant; only a key marked
 *   `trusted_proxy` may name another one in `tenant_header`;
 * - the single `gateway_api_key` honours `tenant_header` only while no
 *   per-tenant keys are configured (every holder is then a trusted proxy),
 *   else its tenant is the key itself; no key: `anonymous`.
 *
 * A tenant named by a key or by a trusted proxy is `h:<name>` (the same
 * tenant either way). A forwarded client credential (pass-through auth)
 * always adds its own partition, so a request never gets an answer bought
 * with another caller's credential. Empty values count as absent (Gemini CLI
 * sends an empty `x-goog-api-key` when it has no key).
 */
export function identifyCaller(headers: Headers, settings: AuthSettings): Caller {
  const { gatewayKey, tenantHeader, queryKey = null, adminKey = "", keys = null } = settings;
  const authorization = headers.get("authorization") || null;
  const bearer = authorization === null ? null : BEARER.exec(authorization)?.[1] ?? null;
  // Each place a key may come in: the secret to compare, and the credential to forward.
  const candidates: { header: ClientCredentialHeader; value: string; secret: string | null }[] = [];
  if (authorization) {
    candidates.push({ header: "authorization", value: authorization, secret: bearer });
  }
  for (
    const [header, value] of [
      ["x-api-key", headers.get("x-api-key")],
      ["x-goog-api-key", headers.get("x-goog-api-key")],
      ["x-goog-api-key", queryKey],
    ] as const
  ) {
    if (value) candidates.push({ header, value, secret: value });
  }
  const perTenant = keys !== null && keys.size > 0;
  const keyed = gatewayKey !== "" || adminKey !== "" || perTenant;
  let authorized = !keyed;
  let admin = !keyed && !tenantHeader;
  let key: GatewayKeyEntry | null = null;
  let clientCredential: Caller["clientCredential"] = null;
  for (const c of candidates) {
    const isGateway = c.secret !== null && gatewayKey !== "" && secretEquals(c.secret, gatewayKey);
    const isAdmin = c.secret !== null && adminKey !== "" && secretEquals(c.secret, adminKey);
    const entry = c.secret !== null && perTenant ? keys.find(c.secret) : undefined;
    if (isGateway || isAdmin || entry) {
      authorized = true;
      if (isAdmin) admin = true;
      if (entry && !key) key = entry;
    } else if (!clientCredential) clientCredential = { header: c.header, value: c.value };
  }
  const mayName = key ? key.trusted_proxy : !perTenant;
  const named = tenantHeader && mayName ? headers.get(tenantHeader) : null;
  const base = named
    ? `h:${named}`
    : key
    ? `h:${key.tenant}`
    : gatewayKey
    ? `k:${secretTag(gatewayKey)}`
    : "";
  const credential = clientCredential
    ? `c:${secretTag(clientCredential.value.replace(/^Bearer\s+/i, ""))}`
    : "";
  const tenant = base && credential ? `${base}/${credential}` : base || credential || "anonymous";
  return { authorized, clientCredential, tenant, admin, key };
}
