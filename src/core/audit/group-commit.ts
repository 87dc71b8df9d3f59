/**
 * Group commit: submissions that arrive while a commit is in progress wait
 * and are committed together by the next one, so N concurrent appenders pay
 * for one write + one fsync (or one produce request) instead of N. One commit
 * runs at a time, which also keeps the chain order equal to the commit order.
 */
export interface GroupCommitter<T, R> {
  submit(item: T): Promise<R>;
  /** Resolves once everything submitted so far is committed (or failed). */
  idle(): Promise<void>;
  /** Items waiting for a commit, the one in progress excluded. */
  queued(): number;
}

/** Per item: its result, or the Error it fails with. Throwing fails the whole batch. */
export type CommitBatch<T, R> = (items: readonly T[]) => Promise<ReadonlyArray<R | Error>>;

export function createGroupCommitter<T, R>(commit: CommitBatch<T, R>, opts: { maxBatch?: number } = {}): GroupCommitter<T, R> {
  const maxBatch = opts.maxBatch ?? 1024;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError("maxBatch must be a positive integer");
  type Waiter = { item: T; resolve: (r: R) => void; reject: (e: unknown) => void };
  let queue: Waiter[] = [];
  let running: Promise<void> | undefined;

  async function drain(): Promise<void> {
    // Let appenders of the same tick join the first batch.
    await Promise.resolve();
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      try {
        const results = await commit(batch.map((w) => w.item));
        batch.forEach((w, i) => {
          const r = results[i];
          if (r instanceof Error) w.reject(r);
          else w.resolve(r as R);
        });
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
  }

  const kick = () => {
    if (!running) {
      running = drain().finally(() => {
        running = undefined;
        if (queue.length > 0) kick();
      });
    }
  };

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        kick();
      });
    },
    async idle() {
      while (running) await running;
    },
    queued: () => queue.length,
  };
}
