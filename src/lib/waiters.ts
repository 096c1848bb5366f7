/** Callers waiting for a signal, each with its own time limit: a wait on an event, not a poll. */
export class Waiters {
  readonly #waiting = new Set<() => void>();

  /** Resolves at the next `wakeAll`, or after `timeoutMs`, whichever comes first. */
  wait(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiting.add(done);
    });
  }

  wakeAll(): void {
    for (const done of [...this.#waiting]) done();
  }
}
