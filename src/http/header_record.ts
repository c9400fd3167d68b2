/**
 * A request's headers as a plain object, built once per request: reading a plain
 * object is several times cheaper than `Headers.get`, whose every call is checked
 * and lower-cased, and the edge, the cloud layer and the stats all read them.
 *
 * @module
 */

const memo = new WeakMap<Headers, Readonly<Record<string, string>>>();

/**
 * Lower-case names to values (repeated headers joined by ", ", as `Headers` does).
 * Memoized per `Headers` object: only for request headers, which never change.
 *
 * @example
 * ```ts
 * headerRecord(new Headers({ "User-Agent": "curl/8" }))["user-agent"]; // "curl/8"
 * ```
 */
export function headerRecord(headers: Headers): Readonly<Record<string, string>> {
  let out = memo.get(headers);
  if (out) return out;
  const record: Record<string, string> = {};
  for (const [name, value] of headers) record[name] = value;
  memo.set(headers, record);
  return out = record;
}
