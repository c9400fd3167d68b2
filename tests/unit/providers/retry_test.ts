import assert from "node:assert/strict";
import {
  backoffMs,
  isRetryableStatus,
  parseRetryAfter,
  retryAfterTooLong,
  sleep,
} from "../../../src/providers/retry.ts";

Deno.test("retry: rate limits, timeouts, conflicts, overload and server errors are retryable", () => {
  for (const status of [408, 409, 429, 500, 502, 503, 504, 529, 599]) {
    assert.equal(isRetryableStatus(status), true, String(status));
  }
});

Deno.test("retry: client errors, 501 and successes are not retryable", () => {
  for (const status of [200, 201, 400, 401, 402, 403, 404, 413, 422, 501]) {
    assert.equal(isRetryableStatus(status), false, String(status));
  }
});

Deno.test("retry: Retry-After in seconds", () => {
  assert.equal(parseRetryAfter("2"), 2000);
  assert.equal(parseRetryAfter("0"), 0);
  assert.equal(parseRetryAfter("1.5"), 1500);
  assert.equal(parseRetryAfter("120"), 120_000);
});

Deno.test("retry: Retry-After as an HTTP date, relative to now", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now), 30_000);
  // A date in the past means "now".
  assert.equal(parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now), 0);
});

Deno.test("retry: a missing or unreadable Retry-After is null", () => {
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter(""), null);
  assert.equal(parseRetryAfter("soon"), null);
});

Deno.test("retry: backoff is exponential with full jitter, capped at the maximum", () => {
  const half = () => 0.5;
  assert.equal(backoffMs(0, 250, 8000, null, half), 125);
  assert.equal(backoffMs(1, 250, 8000, null, half), 250);
  assert.equal(backoffMs(3, 250, 8000, null, half), 1000);
  assert.equal(backoffMs(10, 250, 8000, null, half), 4000);
  assert.equal(backoffMs(10, 250, 8000, null, () => 1), 8000);
  assert.equal(backoffMs(2, 250, 8000, null, () => 0), 0);
  for (let i = 0; i < 100; i++) {
    const ms = backoffMs(4, 250, 8000, null);
    assert.ok(ms >= 0 && ms <= 4000, `${ms} outside [0, 4000]`);
  }
});

Deno.test("retry: backoff never waits less than Retry-After", () => {
  assert.equal(backoffMs(0, 250, 8000, 3000, () => 0.5), 3000);
  assert.equal(backoffMs(5, 250, 8000, 100, () => 1), 8000);
  assert.equal(backoffMs(0, 250, 8000, 0, () => 0.5), 125);
});

Deno.test("retry: a Retry-After longer than the maximum wait means: fall back instead", () => {
  assert.equal(retryAfterTooLong(null, 8000), false);
  assert.equal(retryAfterTooLong(8000, 8000), false);
  assert.equal(retryAfterTooLong(8001, 8000), true);
  assert.equal(retryAfterTooLong(60_000, 8000), true);
});

Deno.test("retry: sleep resolves, and rejects at once when aborted", async () => {
  await sleep(1);
  const aborted = new AbortController();
  aborted.abort(new Error("gone"));
  await assert.rejects(sleep(10_000, aborted.signal), /gone/);
  const later = new AbortController();
  const pending = sleep(10_000, later.signal);
  later.abort(new Error("client closed"));
  await assert.rejects(pending, /client closed/);
});
