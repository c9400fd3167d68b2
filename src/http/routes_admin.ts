/**
 * The admin API under `/api/v1`: what `isartor stats` reads. Authenticated
 * like every route (the gateway key middleware runs first).
 *
 * @module
 */

import type { Context } from "hono";
import type { Stats } from "../telemetry/stats.ts";
import { jsonResponse } from "./respond.ts";
import type { GatewayEnv } from "./routes_chat.ts";

/**
 * `GET /api/v1/stats`: requests, deflection per layer, tokens and estimated
 * cost saved, client tools seen, and the last requests. An admin (the
 * `admin_api_key`, or anyone on a keyless loopback gateway) sees the whole
 * gateway; any other caller only its own tenant's requests.
 */
export function statsHandler(stats: Stats) {
  return (c: Context<GatewayEnv>): Response => {
    const headers = { "cache-control": "no-store" };
    const caller = c.get("caller");
    const report = caller.admin
      ? { ...stats.report(), scope: "gateway" }
      : { ...stats.report(caller.tenant), scope: "tenant" };
    return jsonResponse(200, report, headers);
  };
}
