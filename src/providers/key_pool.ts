/**
 * A pool of API keys for one provider: round-robin or priority order, with a
 * cooldown for keys that were rate limited (429) or refused (401/403).
 *
 * @module
 */

/** One key of the pool. */
export interface PooledKey {
  key: string;
  label: string;
  priority: number;
}

/** Chooses keys and remembers which are cooling down. */
export class KeyPool {
  #keys: PooledKey[];
  #strategy: "round_robin" | "priority";
  #cooldownMs: number;
  #coolUntil = new Map<string, number>();
  #next = 0;
  #now: () => number;

  constructor(
    keys: PooledKey[],
    strategy: "round_robin" | "priority",
    cooldownSecs: number,
    now: () => number = Date.now,
  ) {
    // Priority: a lower number is tried first; ties keep configuration order.
    this.#keys = strategy === "priority"
      ? keys.map((k, i) => ({ k, i })).sort((a, b) => a.k.priority - b.k.priority || a.i - b.i)
        .map(({ k }) => k)
      : [...keys];
    this.#strategy = strategy;
    this.#cooldownMs = cooldownSecs * 1000;
    this.#now = now;
  }

  /** How many keys the pool holds. */
  get size(): number {
    return this.#keys.length;
  }

  /**
   * The keys to try for one request, best first: available keys in strategy
   * order, then cooling keys (soonest available first) as a last resort.
   */
  order(): PooledKey[] {
    const n = this.#keys.length;
    if (n === 0) return [];
    const now = this.#now();
    const start = this.#strategy === "round_robin" ? this.#next++ % n : 0;
    const rotated = [...this.#keys.slice(start), ...this.#keys.slice(0, start)];
    const ready = rotated.filter((k) => (this.#coolUntil.get(k.key) ?? 0) <= now);
    const cooling = rotated.filter((k) => (this.#coolUntil.get(k.key) ?? 0) > now)
      .sort((a, b) => this.#coolUntil.get(a.key)! - this.#coolUntil.get(b.key)!);
    return [...ready, ...cooling];
  }

  /** The key the next request would try first, without advancing the rotation. */
  peek(): PooledKey | null {
    const now = this.#now();
    const n = this.#keys.length;
    if (n === 0) return null;
    const start = this.#strategy === "round_robin" ? this.#next % n : 0;
    for (let i = 0; i < n; i++) {
      const k = this.#keys[(start + i) % n];
      if ((this.#coolUntil.get(k.key) ?? 0) <= now) return k;
    }
    return this.#keys[start];
  }

  /** Each key with its cooldown (epoch ms, or null when ready), in configuration order. */
  describe(): { key: string; label: string; priority: number; coolingUntil: number | null }[] {
    const now = this.#now();
    return this.#keys.map((k) => {
      const until = this.#coolUntil.get(k.key) ?? 0;
      return { ...k, coolingUntil: until > now ? until : null };
    });
  }

  /** Puts a key aside after a 429 or an auth failure. */
  coolDown(key: string, ms: number = this.#cooldownMs): void {
    this.#coolUntil.set(key, this.#now() + ms);
  }

  /** Whether a key is cooling down now. */
  isCooling(key: string): boolean {
    return (this.#coolUntil.get(key) ?? 0) > this.#now();
  }
}
