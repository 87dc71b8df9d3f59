/**
 * Progress of a long CLI operation on stderr: a live line redrawn at most five times a second
 * when stderr is a terminal, nothing at all otherwise (a pipe, a file, CI), so scripts read
 * only what they asked for.
 */
export type ProgressReporter = (done: number, total: number, what: string) => void;

export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): ProgressReporter {
  if (stream.isTTY !== true) return () => undefined;
  let lastPrinted = 0;
  return (done, total, what) => {
    const finished = total > 0 && done >= total;
    const t = now();
    if (!finished && t - lastPrinted < 200) return;
    lastPrinted = t;
    const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
    const width = 30;
    const bar = total > 0 ? `[${"#".repeat(Math.floor((pct / 100) * width)).padEnd(width, ".")}] ${done}/${total} (${pct}%)` : `${done}`;
    stream.write(`\r\x1b[2K${label} ${what} ${bar}${finished ? "\n" : ""}`);
  };
}
