import { SlidingWindow } from "./sliding-window.js";

/** The result of counting one observation against a threshold. */
export type ThresholdResult =
  | { readonly fired: false }
  /** `first`: the threshold was just reached; `entries` are all those in the window (else only the new one). */
  | { readonly fired: true; readonly first: boolean; readonly entries: readonly string[]; readonly inWindow: number };

/**
 * Counts observations per key in a sliding window and reports once the count
 * reaches the threshold, then every further observation while it stays
 * there (so the incident's evidence keeps accumulating). Entries are
 * exchange ids.
 */
export class ThresholdWindow {
  private readonly window: SlidingWindow<string>;
  private readonly firing = new Set<string>();

  constructor(
    windowMs: number,
    private readonly threshold: number,
  ) {
    this.window = new SlidingWindow<string>(windowMs);
  }

  reset(key: string): void {
    this.window.clear(key);
    this.firing.delete(key);
  }

  add(key: string, at: Date, exchangeId: string): ThresholdResult {
    const entries = this.window.add(key, at, exchangeId);
    if (entries.length < this.threshold) {
      this.firing.delete(key);
      return { fired: false };
    }
    const first = !this.firing.has(key);
    this.firing.add(key);
    return { fired: true, first, entries: first ? entries.map((e) => e.value) : [exchangeId], inWindow: entries.length };
  }
}
