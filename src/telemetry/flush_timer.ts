/**
 * A debounced background write: the first `schedule()` after a write arms one
 * timer; later calls until it fires are free. The timer never keeps the process
 * alive. Shared by the stats file and the request log.
 *
 * @module
 */

/** Runs `flush` once, `delayMs` after the first `schedule()` since the last run. */
export class FlushTimer {
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly delayMs: number, readonly flush: () => unknown) {}

  /** Arms the timer unless it is armed already. */
  schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.delayMs);
    Deno.unrefTimer(this.#timer);
  }

  /** Disarms the timer (before a last, explicit flush). */
  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
