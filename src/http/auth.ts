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
 * Checks the gateway key (`Authorization: Bearer`, `x-api-key`, and Gemini's
 * `x-goog-api-key` or `?key=`) and works out the tenant: the `tenant_header`
 * value when configured, else the gateway key that authenticated the call,
 * else a hash of the client's own credential.
 *
 * The client's own credential is the first of those that is present and is
 * not the gateway key (Gemini CLI sends an empty `x-goog-api-key` when it has
 * no key: empty values count as absent).
 */
export function identifyCaller(
  headers: Headers,
  gatewayKey: string,
  tenantHeader: string,
  queryKey: string | null = null,
): Caller {
  const authorization = headers.get("authorization") || null;
  const candidates: { header: ClientCredentialHeader; value: string; secret: string }[] = [];
  if (authorization) {
    candidates.push({
      header: "authorization",
      value: authorization,
      secret: authorization.replace(/^Bearer\s+/i, ""),
    });
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
  let authorized = gatewayKey === "";
  let clientCredential: Caller["clientCredential"] = null;
  for (const c of candidates) {
    if (gatewayKey !== "" && secretEquals(c.secret, gatewayKey)) authorized = true;
    else if (!clientCredential) clientCredential = { header: c.header, value: c.value };
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
