/**
 * Gateway authentication and the caller's identity.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";

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
  clientCredential: { header: "authorization" | "x-api-key"; value: string } | null;
  /** The cache partition of this caller. */
  tenant: string;
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

/**
 * Checks the gateway key (`Authorization: Bearer`, `x-api-key`) and works out the
 * tenant: the `tenant_header` value when configured, else the gateway key that
 * authenticated the call, else a hash of the client's own credential.
 */
export function identifyCaller(
  headers: Headers,
  gatewayKey: string,
  tenantHeader: string,
): Caller {
  const authorization = headers.get("authorization");
  const bearer = authorization?.replace(/^Bearer\s+/i, "") ?? null;
  const xApiKey = headers.get("x-api-key");
  let authorized = gatewayKey === "";
  let clientCredential: Caller["clientCredential"] = null;
  if (gatewayKey !== "") {
    const bearerOk = bearer !== null && secretEquals(bearer, gatewayKey);
    const xOk = xApiKey !== null && secretEquals(xApiKey, gatewayKey);
    authorized = bearerOk || xOk;
    // The header that did not carry the gateway key may carry the client's own credential.
    if (bearerOk && xApiKey !== null && !xOk) {
      clientCredential = { header: "x-api-key", value: xApiKey };
    }
    if (xOk && authorization !== null && !bearerOk) {
      clientCredential = { header: "authorization", value: authorization };
    }
  } else if (authorization) {
    clientCredential = { header: "authorization", value: authorization };
  } else if (xApiKey) {
    clientCredential = { header: "x-api-key", value: xApiKey };
  }
  const named = tenantHeader ? headers.get(tenantHeader) : null;
  const tenant = named
    ? `h:${named}`
    : gatewayKey
    ? `k:${secretTag(gatewayKey)}`
    : clientCredential
    ? `c:${secretTag(clientCredential.value.replace(/^Bearer\s+/i, ""))}`
    : "anonymous";
  return { authorized, clientCredential, tenant };
}
