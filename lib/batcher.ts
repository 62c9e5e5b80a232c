import { GroupQueue } from "./group-queue.ts";

interface Pending<I, O> {
  input: I;
  resolve(output: O): void;
  reject(err: unknown): void;
}

/**
 * One operation for many concurrent callers: inputs arriving while a group is in flight go out
 * together in the next one (at most `max`), through `run`, which answers every input of its group
 * in order. A group that fails is run again input by input, so a bad input fails alone; `run`
 * must therefore be all-or-nothing (one statement, say). With `key`, inputs sharing a key never go
 * in one group: a later one waits for the next, so `run` may assume its keys are distinct.
 */
export class Batcher<I, O> {
  readonly #queue: GroupQueue<Pending<I, O>>;

  constructor(
    max: number,
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly key?: (input: I) => string,
  ) {
    this.#queue = new GroupQueue(max, (group) => this.#run(this.#distinct(group)));
  }

  call(input: I): Promise<O> {
    return new Promise((resolve, reject) => this.#queue.push({ input, resolve, reject }));
  }

  /** The group's inputs with distinct keys; the others go back to the front of the queue. */
  #distinct(group: Pending<I, O>[]): Pending<I, O>[] {
    if (!this.key) return group;
    const seen = new Set<string>();
    const now: Pending<I, O>[] = [];
    const later: Pending<I, O>[] = [];
    for (const pending of group) {
      const key = this.key(pending.input);
      (seen.has(key) ? later : now).push(pending);
      seen.add(key);
    }
    if (later.length > 0) this.#queue.requeue(later);
    return now;
  }

  async #run(group: Pending<I, O>[]): Promise<void> {
    try {
      const outputs = await this.run(group.map((p) => p.input));
      group.forEach((pending, i) => pending.resolve(outputs[i]!));
    } catch (err) {
      if (group.length === 1) return group[0]!.reject(err);
      await Promise.all(group.map((pending) => this.#run([pending])));
    }
  }
}
