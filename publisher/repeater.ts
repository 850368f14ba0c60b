/**
 * Runs a task now and again after the delay its outcome asks for, until
 * stopped; `stop()` waits for a run in progress, so a snapshot or feed being
 * written is never cut short. One timer, re-armed after each run: runs never
 * overlap however slow ClickHouse is.
 */
export class Repeater {
  readonly #task: () => Promise<number>;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<number> | null = null;
  #stopped = true;
  #again = false;
  /** When the next run starts (Unix ms): the timer's due time, or the start of the run in progress. */
  #nextRunAt: number | null = null;

  /** `task` resolves with the delay before the next run (ms) and must not reject. */
  constructor(task: () => Promise<number>) {
    this.#task = task;
  }

  start(): void {
    this.#stopped = false;
    this.#tick();
  }

  /**
   * When the task next runs (Unix ms): the armed timer's due time, or when the run in progress
   * started (not after now); `null` once stopped or before the start.
   */
  get nextRunAt(): number | null {
    return this.#nextRunAt;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#nextRunAt = null;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** Runs the task as soon as possible: now if it is waiting, right after the run in progress otherwise. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#timer === null) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#tick();
  }

  #tick(): void {
    this.#again = false;
    this.#nextRunAt = Date.now();
    const run = this.#task();
    this.#running = run;
    void run.then((delayMs) => {
      if (this.#stopped) return;
      const delay = this.#again ? 0 : delayMs;
      this.#nextRunAt = Date.now() + delay;
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#tick();
      }, delay);
    });
  }
}
