/** Resident set size of this process over a run, in MiB: before, peak (sampled every `everyMs`) and after. */
export interface RssFigures {
  readonly beforeMb: number;
  readonly peakMb: number;
  readonly afterMb: number;
}

export function startRssSampler(everyMs = 100): { stop(): RssFigures } {
  const mb = () => process.memoryUsage.rss() / (1024 * 1024);
  const beforeMb = mb();
  let peakMb = beforeMb;
  const timer = setInterval(() => (peakMb = Math.max(peakMb, mb())), everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      const afterMb = mb();
      const round = (v: number) => Math.round(v * 10) / 10;
      return { beforeMb: round(beforeMb), peakMb: round(Math.max(peakMb, afterMb)), afterMb: round(afterMb) };
    },
  };
}
