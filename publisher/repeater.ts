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

  /** `task` resolves with the delay before the next run (ms) and must not reject. */
  constructor(task: () => Promise<number>) {
    this.#task = task;
  }

  start(): void {
    this.#stopped = false;
    this.#tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #tick(): void {
    const run = this.#task();
    this.#running = run;
    void run.then((delayMs) => {
      if (!this.#stopped) this.#timer = setTimeout(() => this.#tick(), delayMs);
    });
  }
}
