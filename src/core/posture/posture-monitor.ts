import { postureRegressions } from "./evaluate-posture.js";
import type { ControlResult, PostureReport } from "./posture-evidence.js";

export interface PostureMonitorOptions {
  readonly evaluate: () => Promise<PostureReport>;
  /** Every report (metrics). */
  readonly onReport?: (report: PostureReport) => void;
  /** A control that passed (or warned) at the previous check and fails now: raise an incident. */
  readonly onRegression?: (control: ControlResult, report: PostureReport) => void;
  /** A check that could not run at all. */
  readonly onError?: (err: unknown) => void;
}

export interface PostureMonitor {
  /** Runs one check; concurrent calls share the one in progress. */
  check(): Promise<PostureReport | undefined>;
  last(): PostureReport | undefined;
}

/**
 * Periodic posture in the gateway: compares each report with the previous one.
 * The first report sets the baseline (a control failing from the start is
 * reported by the posture report itself, not as a regression).
 */
export function createPostureMonitor(options: PostureMonitorOptions): PostureMonitor {
  let last: PostureReport | undefined;
  let running: Promise<PostureReport | undefined> | undefined;
  const run = async (): Promise<PostureReport | undefined> => {
    let report: PostureReport;
    try {
      report = await options.evaluate();
    } catch (err) {
      options.onError?.(err);
      return undefined;
    }
    const regressions = postureRegressions(last, report);
    last = report;
    options.onReport?.(report);
    for (const control of regressions) {
      try {
        options.onRegression?.(control, report);
      } catch (err) {
        options.onError?.(err);
      }
    }
    return report;
  };
  return {
    check() {
      running ??= run().finally(() => (running = undefined));
      return running;
    },
    last: () => last,
  };
}
