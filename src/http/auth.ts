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
 * Checks the gateway key (`Authorization: Bearer <key>` or `x-api-key: <key>`;
 * a bare `Authorization: <key>` is not a documented form and is refused) and
 * works out the tenant: the `tenant_header` value when configured, else the
 * gateway key that authenticated the call, else `anonymous`; a forwarded
 * client credential (pass-through auth) always adds its own partition, so a
 * request never gets an answer bought with another caller's credential.
 */
export function identifyCaller(
  headers: Headers,
  gatewayKey: string,
  tenantHeader: string,
  adminKey = "",
): Caller {
  const authorization = headers.get("authorization");
  const bearer = authorization === null ? null : BEARER.exec(authorization)?.[1] ?? null;
  const xApiKey = headers.get("x-api-key");
  let authorized = gatewayKey === "" && adminKey === "";
  let admin = authorized && !tenantHeader;
  let clientCredential: Caller["clientCredential"] = null;
  const matches = (v: string | null) =>
    v !== null &&
    ((gatewayKey !== "" && secretEquals(v, gatewayKey)) ||
      (adminKey !== "" && secretEquals(v, adminKey)));
  if (gatewayKey !== "" || adminKey !== "") {
    const bearerOk = matches(bearer);
    const xOk = matches(xApiKey);
    authorized = bearerOk || xOk;
    admin = adminKey !== "" &&
      ((bearer !== null && secretEquals(bearer, adminKey)) ||
        (xApiKey !== null && secretEquals(xApiKey, adminKey)));
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
  const base = named ? `h:${named}` : gatewayKey ? `k:${secretTag(gatewayKey)}` : "";
  const credential = clientCredential
    ? `c:${secretTag(clientCredential.value.replace(/^Bearer\s+/i, ""))}`
    : "";
  const tenant = base && credential ? `${base}/${credential}` : base || credential || "anonymous";
  return { authorized, clientCredential, tenant, admin };
}
