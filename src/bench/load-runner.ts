import { fork } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { runLoad, type LoadJob, type LoadResult } from "./load-generator.js";

/**
 * Where the load generator runs:
 * - "process": a child process, so it has its own core's worth of scheduling and its
 *   own heap; the servers' process measures only the servers (RSS included);
 * - "worker": a worker thread in the servers' process (own event loop, shared process);
 * - "inline": the servers' own event loop (tests; least fair, the generator steals
 *   the gateway's time).
 */
export type LoadGeneratorPlacement = "process" | "worker" | "inline";

export const LOAD_GENERATOR_PLACEMENTS: readonly LoadGeneratorPlacement[] = ["process", "worker", "inline"];

/** Runs one load job where asked; "process" and "worker" need the compiled dist/bench/load-worker.js. */
export function runLoadIn(placement: LoadGeneratorPlacement, job: LoadJob): Promise<LoadResult> {
  if (placement === "inline") return runLoad(job);
  const entry = join(__dirname, "load-worker.js");
  if (!existsSync(entry)) throw new Error(`${entry} not found: run \`npm run build\` first, or use --loadgen inline`);
  return new Promise<LoadResult>((resolve, reject) => {
    const settle = (message: { result?: LoadResult; error?: string }) =>
      message.result ? resolve(message.result) : reject(new Error(`load generator: ${message.error ?? "no result"}`));
    if (placement === "worker") {
      const worker = new Worker(entry, { workerData: job });
      worker.once("message", (m) => {
        settle(m as { result?: LoadResult; error?: string });
        void worker.terminate();
      });
      worker.once("error", reject);
      return;
    }
    const child = fork(entry, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let answered = false;
    child.once("message", (m) => {
      answered = true;
      settle(m as { result?: LoadResult; error?: string });
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (!answered) reject(new Error(`load generator exited with code ${code} before answering`));
    });
    child.send(job);
  });
}
