/**
 * Timestamps per key within a sliding window, bounded in keys and entries
 * (a flood of distinct keys, e.g. forged certificates, must not grow memory
 * without limit: the oldest key is dropped).
 */
export class SlidingWindow<V = undefined> {
  private readonly byKey = new Map<string, Array<{ at: number; value: V }>>();

  constructor(
    readonly windowMs: number,
    private readonly maxKeys = 10_000,
    private readonly maxEntriesPerKey = 100_000,
  ) {}

  /** Adds an entry and returns the entries of `key` still inside the window ending at `at`. */
  add(key: string, at: Date, value: V): ReadonlyArray<{ at: number; value: V }> {
    const now = at.getTime();
    let entries = this.byKey.get(key);
    if (!entries) {
      if (this.byKey.size >= this.maxKeys) this.byKey.delete(this.byKey.keys().next().value!);
      entries = [];
    } else {
      this.byKey.delete(key); // re-insert: Map order is then least recently used first
    }
    entries.push({ at: now, value });
    let drop = 0;
    while (drop < entries.length && entries[drop]!.at <= now - this.windowMs) drop++;
    if (entries.length - drop > this.maxEntriesPerKey) drop = entries.length - this.maxEntriesPerKey;
    if (drop > 0) entries.splice(0, drop);
    this.byKey.set(key, entries);
    return entries;
  }

  clear(key: string): void {
    this.byKey.delete(key);
  }
}
