/**
 * Single-flight: concurrent identical misses call the upstream once; the
 * others wait for the leader's recording.
 *
 * @module
 */

/**
 * Waits for a leader's result, but gives up (resolving null) when this
 * waiter's own client goes away: a follower never outlives its request.
 */
export function waitUnlessAborted<T>(
  pending: Promise<T | null>,
  signal: AbortSignal,
): Promise<T | null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise((resolve) => {
    const onAbort = () => resolve(null);
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then((v) => {
      signal.removeEventListener("abort", onAbort);
      resolve(v);
    }, () => resolve(null));
  });
}

/** In-flight work by key. */
export class SingleFlight<T> {
  #inflight = new Map<string, Promise<T | null>>();

  /** The pending result of a leader already working on `id`, if any. */
  pending(id: string): Promise<T | null> | undefined {
    return this.#inflight.get(id);
  }

  /**
   * Becomes the leader for `id` unless one exists. Returns the function that
   * settles the flight (to call exactly once, with the result or null), or
   * null when another request already leads.
   */
  lead(id: string): ((result: T | null) => void) | null {
    if (this.#inflight.has(id)) return null;
    let settle!: (result: T | null) => void;
    this.#inflight.set(id, new Promise((resolve) => (settle = resolve)));
    return (result) => {
      this.#inflight.delete(id);
      settle(result);
    };
  }
}
