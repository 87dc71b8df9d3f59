import { fork } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { runLoad, type LoadJob, type LoadPhase, type LoadResult } from "./load-generator.js";

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
export function runLoadIn(placement: LoadGeneratorPlacement, job: LoadJob, onPhase?: (phase: LoadPhase) => void): Promise<LoadResult> {
  if (placement === "inline") return runLoad(job, onPhase);
  const entry = join(__dirname, "load-worker.js");
  if (!existsSync(entry)) throw new Error(`${entry} not found: run \`npm run build\` first, or use --loadgen inline`);
  return new Promise<LoadResult>((resolve, reject) => {
    type Message = { phase?: LoadPhase; result?: LoadResult; error?: string };
    // Phase messages come first; the last message carries the result or the error.
    const settle = (message: Message): boolean => {
      if (message.phase) {
        onPhase?.(message.phase);
        return false;
      }
      if (message.result) resolve(message.result);
      else reject(new Error(`load generator: ${message.error ?? "no result"}`));
      return true;
    };
    if (placement === "worker") {
      const worker = new Worker(entry, { workerData: job });
      worker.on("message", (m) => {
        if (settle(m as Message)) void worker.terminate();
      });
      worker.once("error", reject);
      return;
    }
    const child = fork(entry, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let answered = false;
    child.on("message", (m) => {
      if (settle(m as Message)) answered = true;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (!answered) reject(new Error(`load generator exited with code ${code} before answering`));
    });
    child.send(job);
  });
}
