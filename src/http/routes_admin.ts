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
 * cost saved, client tools seen, and the last requests.
 */
export function statsHandler(stats: Stats) {
  return (_c: Context<GatewayEnv>): Response => {
    const headers = { "cache-control": "no-store" };
    return jsonResponse(200, stats.report(), headers);
  };
}
