/**
 * Serves the dashboard page and its files. They hold no data, so they are
 * served without the gateway key; the page asks for the key and sends it to
 * the admin API, which checks it like every route.
 *
 * @module
 */

import { type Asset, ASSETS, INDEX } from "./assets.ts";

/** Headers of every dashboard file: no framing, scripts and styles from this origin only. */
const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

function serve(asset: Asset, method: string): Response {
  return new Response(method === "HEAD" ? null : asset.body, {
    headers: { ...SECURITY_HEADERS, "content-type": asset.type },
  });
}

/**
 * The response for a dashboard path (`/dashboard`, `/dashboard/`,
 * `/dashboard/assets/<file>`), or null when the path is not the dashboard's.
 */
export function dashboardResponse(path: string, method: string): Response | null {
  if (method !== "GET" && method !== "HEAD") return null;
  if (path === "/dashboard") {
    return new Response(null, { status: 308, headers: { location: "/dashboard/" } });
  }
  if (path === "/dashboard/" || path === "/dashboard/index.html") return serve(INDEX, method);
  const prefix = "/dashboard/assets/";
  if (path.startsWith(prefix)) {
    const asset = ASSETS[path.slice(prefix.length)];
    return asset ? serve(asset, method) : null;
  }
  return null;
}
