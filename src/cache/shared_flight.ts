/**
 * Single-flight across replicas: a short lock in Redis (`SET NX PX`) taken by
 * the replica whose request calls the upstream; the other replicas' identical
 * misses wait for the answer to appear in the shared store.
 *
 * A waiter polls the store and the lock (every `pollMs`): the stored answer
 * ends the wait; a lock that is gone without an answer (the holder failed, or
 * the lock expired) makes the waiter try to take the lock itself, so again
 * only one calls. When Redis does not answer, everyone calls on its own: the
 * lock saves money, it must never fail a request.
 *
 * Polling rather than pub/sub: no extra subscriber connection per replica, the
 * same code on a cluster, and only one request per replica polls (the others
 * wait on the in-process single-flight).
 *
 * Separate from `single_flight.ts`, which coalesces within one process.
 *
 * @module
 */

import type { StoreKey } from "./byte_store.ts";
import type { RedisConnection } from "./redis_client.ts";

/** What a claim found. */
export type Claim<T> =
  /** This replica calls the upstream; `release` when the answer is stored (or failed). */
  | { kind: "lead"; release: () => void }
  /** Another replica answered. */
  | { kind: "answer"; value: T }
  /** No lock to be had (Redis away, the wait ran out, the client left): call alone. */
  | { kind: "alone" };

/** The cross-replica lock, as the exact cache uses it. */
export interface SharedFlight {
  /**
   * Leads the flight for the entry `key` across replicas, or waits for the
   * leader's stored answer (`stored` reads it).
   */
  claim<T>(
    key: StoreKey,
    stored: () => Promise<T | null>,
    signal: AbortSignal,
  ): Promise<Claim<T>>;
}

const RELEASE =
  `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

/** Counters for stats. */
export interface SharedFlightStats {
  led: number;
  waited: number;
  answered_by_other: number;
  alone: number;
}

/** The lock on Redis. */
export class RedisSharedFlight implements SharedFlight {
  readonly counters: SharedFlightStats = { led: 0, waited: 0, answered_by_other: 0, alone: 0 };

  /**
   * @param conn the command connection
   * @param ttlMs the lock's expiry: the longest a waiter waits for a leader
   * @param lockKeyOf the Redis key of an entry's lock
   * @param onError Redis failures (for the metric and the warning)
   * @param pollMs how often a waiter looks for the answer
   */
  constructor(
    readonly conn: RedisConnection,
    readonly ttlMs: number,
    readonly lockKeyOf: (key: StoreKey) => string,
    readonly onError: (op: string, e: unknown) => void = () => {},
    readonly pollMs = 10,
  ) {}

  async claim<T>(
    key: StoreKey,
    stored: () => Promise<T | null>,
    signal: AbortSignal,
  ): Promise<Claim<T>> {
    const lockKey = this.lockKeyOf(key);
    const token = crypto.randomUUID();
    const deadline = Date.now() + this.ttlMs;
    let waited = false;
    try {
      while (!signal.aborted && Date.now() < deadline) {
        const ok = await this.conn.command(lockKey, [
          "SET",
          lockKey,
          token,
          "NX",
          "PX",
          String(this.ttlMs),
        ]);
        if (ok !== null) {
          this.counters.led++;
          return { kind: "lead", release: () => this.#release(lockKey, token) };
        }
        if (!waited) this.counters.waited++;
        waited = true;
        // Wait while the lock is held; the answer ends the wait.
        while (!signal.aborted && Date.now() < deadline) {
          await sleep(this.pollMs);
          const value = await stored();
          if (value !== null) {
            this.counters.answered_by_other++;
            return { kind: "answer", value };
          }
          const held = await this.conn.command(lockKey, ["EXISTS", lockKey]);
          if (Number(held) === 0) {
            // Released without an answer, or expired: one last look, then try to lead.
            const late = await stored();
            if (late !== null) {
              this.counters.answered_by_other++;
              return { kind: "answer", value: late };
            }
            break;
          }
        }
      }
    } catch (e) {
      // Redis away or slow: this request calls on its own.
      this.onError("lock", e);
    }
    this.counters.alone++;
    return { kind: "alone" };
  }

  #release(lockKey: string, token: string): void {
    this.conn.command(lockKey, ["EVAL", RELEASE, "1", lockKey, token]).catch((e) =>
      this.onError("unlock", e)
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
