/**
 * At most `concurrency` generations at once, and at most `maxWaiting` requests
 * waiting for one; a request beyond that is told "busy" at once (it goes to
 * L3), never queued without bound.
 *
 * @module
 */

/** A bounded semaphore. */
export class GenerationQueue {
  #running = 0;
  #waiting: (() => void)[] = [];

  constructor(readonly concurrency: number, readonly maxWaiting: number) {}

  /** Requests running and waiting now. */
  get load(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiting.length };
  }

  /**
   * A slot (call the returned release once), or null when the queue is full.
   * Waiting ends with the signal's reason when it aborts first.
   *
   * @example
   * ```ts
   * const q = new GenerationQueue(1, 0);
   * const release = await q.acquire(new AbortController().signal);
   * await q.acquire(new AbortController().signal); // null: busy
   * release?.();
   * ```
   */
  acquire(signal: AbortSignal): Promise<(() => void) | null> {
    if (this.#running < this.concurrency) {
      this.#running++;
      return Promise.resolve(this.#releaser());
    }
    if (this.#waiting.length >= this.maxWaiting) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const wake = () => {
        signal.removeEventListener("abort", onAbort);
        this.#running++;
        resolve(this.#releaser());
      };
      const onAbort = () => {
        this.#waiting = this.#waiting.filter((w) => w !== wake);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(wake);
    });
  }

  #releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#running--;
      this.#waiting.shift()?.();
    };
  }
}
