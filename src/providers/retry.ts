/**
 * When to retry an upstream call, and how long to wait.
 *
 * @module
 */

/** Statuses worth another attempt: rate limits, overload and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status === 529 ||
    (status >= 500 && status <= 599 && status !== 501);
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds, or null. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * Exponential backoff with full jitter (at most `maxMs`), never shorter than
 * the server's `Retry-After`. The caller gives up instead of waiting when
 * `Retry-After` is longer than `maxMs` (see {@linkcode retryAfterTooLong}).
 *
 * @example
 * ```ts
 * backoffMs(0, 250, 8000, null, () => 0.5); // 125
 * ```
 */
export function backoffMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number {
  const jittered = Math.min(maxMs, baseMs * 2 ** attempt) * random();
  return retryAfterMs === null ? jittered : Math.max(retryAfterMs, jittered);
}

/** Whether the server asks for a longer wait than we are willing to spend: better to fall back. */
export function retryAfterTooLong(retryAfterMs: number | null, maxMs: number): boolean {
  return retryAfterMs !== null && retryAfterMs > maxMs;
}

/** Sleeps, waking early (with a rejection) if the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
