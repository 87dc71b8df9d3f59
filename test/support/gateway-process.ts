/**
 * The gateway as a real child process (`node bin/credex.js gateway start`),
 * for the chaos suite: it can be SIGKILLed mid-load and started again on the
 * same config, audit file and chain state.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../src/config/package-root.js";

export interface GatewayProcess {
  readonly child: ChildProcess;
  /** host:port once the gateway logged "gateway listening". */
  readonly address: string;
  /** host:port of its GatewayAdmin listener, when the config has one. */
  readonly admin: string | undefined;
  /** http://host:port of its /healthz and /readyz listener, when the config has a health section. */
  readonly health: string | undefined;
  /** Resolves with the exit code or signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything the process wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** Everything the process wrote to stdout so far (its JSON log lines). */
  stdout(): string;
}

export async function spawnGateway(configFile: string, startTimeoutMs = 15_000): Promise<GatewayProcess> {
  const root = packageRoot();
  if (!existsSync(join(root, "dist", "cli", "main.js"))) throw new Error("dist/ is missing: run `npm run build` first (`npm run test:chaos` does)");
  const child = spawn(process.execPath, [join(root, "bin", "credex.js"), "gateway", "start", "--config", configFile], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  let out = "";
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (err += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const listening = await new Promise<{ address: string; admin?: string; health?: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway did not start within ${startTimeoutMs} ms: ${err}`)), startTimeoutMs);
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      for (const line of out.split("\n")) {
        if (!line.includes('"gateway listening"')) continue;
        clearTimeout(timer);
        resolve(JSON.parse(line) as { address: string; admin?: string; health?: string });
      }
    });
    void exited.then(({ code, signal }) => reject(new Error(`the gateway exited (${code ?? signal}) before listening: ${err}`)));
  });
  return { child, address: listening.address, admin: listening.admin, health: listening.health, exited, stderr: () => err, stdout: () => out };
}
