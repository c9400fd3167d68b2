/**
 * Gateway authentication and the caller's identity.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import type { ClientCredentialHeader } from "../pipeline/types.ts";

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

/**
 * Checks the gateway key (`Authorization: Bearer <key>`, `x-api-key`, and
 * Gemini's `x-goog-api-key` or `?key=`; a bare `Authorization: <key>` is not
 * a documented form and is refused) and works out the tenant: the
 * `tenant_header` value when configured, else the gateway key that
 * authenticated the call, else `anonymous`; a forwarded client credential
 * (pass-through auth) always adds its own partition, so a request never gets
 * an answer bought with another caller's credential. Empty values count as
 * absent (Gemini CLI sends an empty `x-goog-api-key` when it has no key).
 */
export function identifyCaller(
  headers: Headers,
  gatewayKey: string,
  tenantHeader: string,
  queryKey: string | null = null,
  adminKey = "",
): Caller {
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
  const keyed = gatewayKey !== "" || adminKey !== "";
  let authorized = !keyed;
  let admin = !keyed && !tenantHeader;
  let clientCredential: Caller["clientCredential"] = null;
  for (const c of candidates) {
    const isGateway = c.secret !== null && gatewayKey !== "" && secretEquals(c.secret, gatewayKey);
    const isAdmin = c.secret !== null && adminKey !== "" && secretEquals(c.secret, adminKey);
    if (isGateway || isAdmin) {
      authorized = true;
      if (isAdmin) admin = true;
    } else if (!clientCredential) clientCredential = { header: c.header, value: c.value };
  }
  const named = tenantHeader ? headers.get(tenantHeader) : null;
  const base = named ? `h:${named}` : gatewayKey ? `k:${secretTag(gatewayKey)}` : "";
  const credential = clientCredential
    ? `c:${secretTag(clientCredential.value.replace(/^Bearer\s+/i, ""))}`
    : "";
  const tenant = base && credential ? `${base}/${credential}` : base || credential || "anonymous";
  return { authorized, clientCredential, tenant, admin };
}
