/**
 * A token bucket: `ratePerSecond` tokens accrue continuously up to `burst`;
 * each admitted call takes one. Time is passed in (ms), so the bucket is
 * deterministic under test.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.last = nowMs;
  }

  take(nowMs: number): boolean {
    if (nowMs > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.last) / 1000) * this.ratePerSecond);
      this.last = nowMs;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
