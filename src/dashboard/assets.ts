/**
 * The dashboard's files, imported as text so they travel inside `deno bundle`
 * and `deno compile` output: no CDN, no files beside the binary.
 *
 * @module
 */

import indexHtml from "./static/index.html" with { type: "text" };
import dashboardJs from "./static/dashboard.js" with { type: "text" };
import dashboardCss from "./static/dashboard.css" with { type: "text" };
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };

/** A served file: its bytes and content type. */
export interface Asset {
  body: string;
  type: string;
}

/** The page, at `/dashboard/`. */
export const INDEX: Asset = { body: indexHtml, type: "text/html; charset=utf-8" };

/** The files under `/dashboard/assets/`. */
export const ASSETS: Readonly<Record<string, Asset>> = {
  "dashboard.js": { body: dashboardJs, type: "text/javascript; charset=utf-8" },
  "dashboard.css": { body: dashboardCss, type: "text/css; charset=utf-8" },
  "uplot.js": { body: uplotJs, type: "text/javascript; charset=utf-8" },
  "uplot.css": { body: uplotCss, type: "text/css; charset=utf-8" },
};
