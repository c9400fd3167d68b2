/**
 * Single-flight: concurrent identical misses call the upstream once; the
 * others wait for the leader's outcome.
 *
 * A flight ends with a recording (a complete answer every waiter can replay),
 * with the leader's failure (an error it raised, or an error answer from the
 * provider, which every waiter gets too: 500 identical requests against a
 * failing provider make one set of upstream attempts, not 500), or with
 * nothing usable (an answer that was not recordable, or a leader whose own
 * client left): then one waiter leads again, the others keep waiting.
 *
 * @module
 */

/** How a flight ended. */
export type FlightOutcome<T, A> =
  /** A result every waiter may use. */
  | { kind: "result"; result: T }
  /** The leader failed with this error: waiters raise it too. */
  | { kind: "error"; error: unknown }
  /** The provider answered with an error: waiters answer the same. */
  | { kind: "answer"; answer: A }
  /** Nothing to share: one waiter leads again. */
  | { kind: "none" };

/**
 * Waits for a leader's outcome, but gives up (resolving null) when this
 * waiter's own client goes away: a follower never outlives its request.
 */
export function waitUnlessAborted<T>(
  pending: Promise<T>,
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
export class SingleFlight<T, A = never> {
  #inflight = new Map<string, Promise<FlightOutcome<T, A>>>();

  /** The pending outcome of a leader already working on `id`, if any. */
  pending(id: string): Promise<FlightOutcome<T, A>> | undefined {
    return this.#inflight.get(id);
  }

  /**
   * Becomes the leader for `id` unless one exists. Returns the function that
   * settles the flight (to call exactly once), or null when another request
   * already leads.
   */
  lead(id: string): ((outcome: FlightOutcome<T, A>) => void) | null {
    if (this.#inflight.has(id)) return null;
    let settle!: (outcome: FlightOutcome<T, A>) => void;
    this.#inflight.set(id, new Promise((resolve) => (settle = resolve)));
    return (outcome) => {
      this.#inflight.delete(id);
      settle(outcome);
    };
  }
}
