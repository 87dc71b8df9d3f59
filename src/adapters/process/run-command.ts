import { spawn } from "node:child_process";

/**
 * Runs a program (no shell: argv as given) with `stdin` written to it and
 * its output discarded; killed with SIGKILL once `timeoutMs` passes.
 */
export function runCommand(argv: readonly string[], stdin: string, timeoutMs: number): Promise<{ exitCode: number | null; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "ignore", "ignore"], shell: false });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code, timedOut });
    });
    // A program that does not read its stdin closes the pipe: not an error of ours.
    child.stdin.on("error", () => {});
    child.stdin.end(stdin);
  });
}
