/**
 * Items handed to `handle` in groups: one group at a time, each holding what arrived while the
 * previous one was handled (at most `max`). `handle` settles every item of its group itself; it
 * may put some back with `requeue` to go out with the next group.
 */
export class GroupQueue<T> {
  readonly #items: T[] = [];
  #running = false;

  constructor(
    private readonly max: number,
    private readonly handle: (group: T[]) => Promise<void>,
  ) {}

  push(item: T): void {
    this.#items.push(item);
    void this.#drain();
  }

  /** Puts items back at the front of the queue. */
  requeue(items: T[]): void {
    this.#items.unshift(...items);
  }

  async #drain(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#items.length > 0) await this.handle(this.#items.splice(0, this.max));
    } finally {
      this.#running = false;
    }
  }
}
