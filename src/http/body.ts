/**
 * Reading request bodies: bounded in size, parsed as JSON, errors phrased for the caller.
 *
 * @module
 */

import { GatewayError } from "./errors.ts";
import { headerRecord } from "./header_record.ts";

/** How long a client may take to send its body unless configured (`request_read_timeout_secs`). */
export const DEFAULT_READ_TIMEOUT_MS = 30_000;

/**
 * Reads the whole body, refusing more than `limit` bytes (checked before and
 * while reading) and a client slower than `timeoutMs` (a slowloris body holds
 * a connection and its memory): 408 and the body is cancelled.
 */
export async function readBodyLimited(
  req: Request,
  limit: number,
  timeoutMs: number = DEFAULT_READ_TIMEOUT_MS,
): Promise<Uint8Array<ArrayBuffer>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      req.body?.cancel().catch(() => {});
      reject(
        new GatewayError(
          408,
          "request_timeout",
          `the request body did not arrive within ${
            timeoutMs / 1000
          }s; fix: send the whole body at once, or raise request_read_timeout_secs`,
        ),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([readBody(req, limit), late]);
  } finally {
    clearTimeout(timer);
  }
}

async function readBody(req: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(headerRecord(req.headers)["content-length"] ?? "NaN");
  if (declared > limit) throw tooLarge(declared, limit);
  if (Number.isFinite(declared)) {
    // Read whole without a ReadableStream in between (the body getter would build one).
    const bytes = await req.bytes();
    if (bytes.byteLength > limit) throw tooLarge(bytes.byteLength, limit);
    return bytes;
  }
  if (!req.body) return new Uint8Array();
  // Chunked upload: count as we go, so an endless body cannot exhaust memory.
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.byteLength;
    if (size > limit) throw tooLarge(size, limit);
    chunks.push(chunk);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function tooLarge(size: number, limit: number): GatewayError {
  return new GatewayError(
    413,
    "request_too_large",
    `request body is ${size} bytes, over the limit of ${limit} bytes; fix: send a smaller request or raise max_request_body_bytes`,
  );
}

const decoder = new TextDecoder();

/** Parses a JSON object body, or throws a 400 that says what is wrong. */
export function parseJsonObject(bytes: Uint8Array): Record<string, unknown> {
  if (bytes.byteLength === 0) {
    throw new GatewayError(
      400,
      "invalid_request_error",
      "request body is empty; fix: send a JSON object with Content-Type: application/json",
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (e) {
    throw new GatewayError(
      400,
      "invalid_request_error",
      `request body is not valid JSON (${(e as Error).message}); fix: send a JSON object`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new GatewayError(
      400,
      "invalid_request_error",
      `request body must be a JSON object, got ${Array.isArray(value) ? "an array" : typeof value}`,
    );
  }
  return value as Record<string, unknown>;
}
