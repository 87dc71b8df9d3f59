/**
 * Entry point of a load generator outside the servers' event loop: run as a
 * child process (IPC) or a worker thread. It receives one LoadJob, runs it
 * and posts the LoadResult back (load-runner.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import { runLoad, type LoadJob } from "./load-generator.js";

if (parentPort) {
  runLoad(workerData as LoadJob, (phase) => parentPort!.postMessage({ phase })).then(
    (result) => parentPort!.postMessage({ result }),
    (err: Error) => parentPort!.postMessage({ error: err.message }),
  );
} else if (process.send) {
  process.once("message", (job: LoadJob) => {
    runLoad(job, (phase) => process.send!({ phase })).then(
      (result) => process.send!({ result }, () => process.exit(0)),
      (err: Error) => process.send!({ error: err.message }, () => process.exit(1)),
    );
  });
}
