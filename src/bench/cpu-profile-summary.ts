/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): self time per function and
 * inclusive time per credex function, as shares of the sampled time.
 *
 *   node dist/bench/cpu-profile-summary.js <file.cpuprofile> [top]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileLine {
  readonly share: number;
  readonly frame: string;
}

export interface ProfileSummary {
  readonly sampledMs: number;
  readonly idleShare: number;
  readonly self: readonly ProfileLine[];
  /** Inclusive time of functions compiled from this repository (dist/). */
  readonly credexInclusive: readonly ProfileLine[];
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/.*node_modules\//, "").replace(/.*\/dist\//, "dist/");
  return `${functionName || "(anonymous)"} ${where}:${lineNumber + 1}`;
}

export function summarizeCpuProfile(profile: CpuProfile, top = 30): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const timeAt = new Map<number, number>();
  profile.samples.forEach((id, i) => timeAt.set(id, (timeAt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let total = 0;
  let idle = 0;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, t] of timeAt) {
    total += t;
    if (byId.get(id)!.callFrame.functionName === "(idle)") idle += t;
    const name = frameName(byId.get(id)!);
    self.set(name, (self.get(name) ?? 0) + t);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = frameName(byId.get(cur)!);
      if (!seen.has(frame)) inclusive.set(frame, (inclusive.get(frame) ?? 0) + t);
      seen.add(frame);
    }
  }
  const rank = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([frame, t]) => ({ share: Math.round((1000 * t) / total) / 10, frame }));
  return {
    sampledMs: Math.round(total / 1000),
    idleShare: Math.round((1000 * idle) / total) / 10,
    self: rank(self),
    credexInclusive: rank(new Map([...inclusive].filter(([frame]) => frame.includes("dist/")))),
  };
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write("usage: node dist/bench/cpu-profile-summary.js <file.cpuprofile> [top]\n");
    process.exit(2);
  }
  const s = summarizeCpuProfile(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, Number(top ?? 30));
  const lines = (title: string, items: readonly ProfileLine[]) => [title, ...items.map((l) => `${l.share.toFixed(1).padStart(6)}%  ${l.frame}`)].join("\n");
  process.stdout.write(`${file}: ${s.sampledMs} ms sampled, ${s.idleShare}% idle\n${lines("self time:", s.self)}\n${lines("inclusive (credex code):", s.credexInclusive)}\n`);
}
