/**
 * A Durable Object's one alarm, with the time last set kept in memory: the object is the only
 * one that sets it, so asking storage (`getAlarm`) before every change is a storage read per
 * state change for nothing. A new instance asks once. Changes run one after another, so two
 * callers racing across the first read cannot leave the cache and storage disagreeing.
 */
export class AlarmSlot {
  readonly #storage: DurableObjectStorage;
  /** undefined: not known in this instance yet. */
  #at: number | null | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
  }

  set(at: number | null): Promise<void> {
    return this.#run(async () => {
      await this.#known();
      if (at === this.#at) return;
      this.#at = at;
      if (at === null) await this.#storage.deleteAlarm();
      else await this.#storage.setAlarm(at);
    });
  }

  /**
   * Makes sure the alarm fires by `at`: moved only if it is unset or later. An alarm that then
   * fires early finds nothing due and sets the next one, so this never loses work, and a burst
   * of changes costs no storage write each.
   */
  setEarlier(at: number): Promise<void> {
    return this.#run(async () => {
      await this.#known();
      if (this.#at !== null && this.#at !== undefined && this.#at <= at) return;
      this.#at = at;
      await this.#storage.setAlarm(at);
    });
  }

  /** Whether an alarm is known to be set in this instance (false: none, or not known). */
  isSet(): boolean {
    return this.#at !== undefined && this.#at !== null;
  }

  /** The alarm has fired (the platform cleared it), or storage was wiped: nothing is known. */
  forget(): void {
    this.#at = undefined;
  }

  async #known(): Promise<void> {
    if (this.#at === undefined) {
      const stored = await this.#storage.getAlarm();
      // Only if nothing was learnt meanwhile (forget() after this read began leaves it unknown).
      if (this.#at === undefined) this.#at = stored;
    }
  }

  #run(op: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(op);
    this.#chain = next.catch(() => {});
    return next;
  }
}
