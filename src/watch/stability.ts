/**
 * How long the answers of a watcher have held still, judged from successful polls only: a
 * failed poll is no evidence either way, so it breaks the run and the count starts again at
 * the next success. Pure: the caller gives the time.
 *
 * @example
 * const stability = new Stability();
 * stability.succeeded(true, 0);     // the first answer
 * stability.succeeded(false, 5000); // the same again, 5 s later
 * stability.holds(5000);            // true
 */
export class Stability {
  // When the current run of unchanged, successful polls began, and its length.
  private since = 0;
  private polls = 0;
  private lastAt = 0;

  /** A successful poll at `now`; `changed`: its answer differs from the one before. */
  succeeded(changed: boolean, now: number): void {
    if (changed || this.polls === 0) {
      this.since = now;
      this.polls = 0;
    }
    this.polls++;
    this.lastAt = now;
  }

  /** A failed poll. */
  failed(): void {
    this.polls = 0;
  }

  /**
   * Whether the latest poll succeeded and the answers have not changed for `stableFor` ms,
   * across at least two successful polls in a row.
   */
  holds(stableFor: number): boolean {
    return this.polls >= 2 && this.lastAt - this.since >= stableFor;
  }
}
