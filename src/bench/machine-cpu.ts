import { readFileSync } from "node:fs";

/**
 * How busy the whole machine was over a window: the share of all CPUs' time
 * spent outside idle and iowait, from the aggregate "cpu" line of /proc/stat
 * (proc(5)). The gateway shares this machine with its providers, the load
 * generator and the Kafka broker, so a "half load" of the gateway can be a
 * nearly full machine; this figure says which.
 */
export interface MachineCpuWindow {
  /** 0..1 over all CPUs; undefined where /proc/stat cannot be read (not Linux). */
  stop(): number | undefined;
}

interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

/** Parses the aggregate line: user nice system idle iowait irq softirq steal ... (USER_HZ ticks). */
export function parseProcStatCpu(text: string): CpuTimes | undefined {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return undefined;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 4 || fields.some((f) => !Number.isFinite(f))) return undefined;
  // guest and guest_nice (fields 9, 10) are already counted in user and nice.
  const counted = fields.slice(0, 8);
  const total = counted.reduce((a, b) => a + b, 0);
  const idle = (counted[3] ?? 0) + (counted[4] ?? 0);
  return { busy: total - idle, total };
}

function readCpuTimes(): CpuTimes | undefined {
  try {
    return parseProcStatCpu(readFileSync("/proc/stat", "utf8"));
  } catch {
    return undefined;
  }
}

export function startMachineCpuWindow(): MachineCpuWindow {
  const from = readCpuTimes();
  return {
    stop() {
      const to = readCpuTimes();
      if (!from || !to || to.total <= from.total) return undefined;
      return Math.round(((to.busy - from.busy) / (to.total - from.total)) * 1000) / 1000;
    },
  };
}
