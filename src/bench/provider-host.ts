/**
 * The benchmark's reference providers, hosted apart from the gateway: started
 * in a child process (or inline for tests) so the gateway's process holds only
 * the gateway — its CPU profile and RSS are its own, and a fan-out to 8
 * providers does not make the gateway's event loop serve the 8 providers too.
 */
import { fork } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startReferenceAgency, type RunningAgency } from "../agency/reference-agency.js";
import { syntheticRecords } from "../demo/synthetic-data.js";

export interface ProviderSpec {
  readonly trustDomain: string;
  readonly category: string;
  readonly caFile: string;
  readonly members: ReadonlyArray<{ readonly id: string; readonly cert: string; readonly key: string }>;
  readonly payloadBytes: number;
  readonly perSubject: number;
}

export interface HostedProviders {
  /** host:port of each member's provider, in the order of ProviderSpec.members. */
  readonly addresses: readonly string[];
  /** Subjects every provider holds records on. */
  readonly subjects: readonly string[];
}

export interface ProviderHost {
  /** (Re)starts every provider with the given datasets. */
  start(spec: ProviderSpec): Promise<HostedProviders>;
  stop(): Promise<void>;
}

export type ProviderPlacement = "process" | "inline";

export function createProviderHost(placement: ProviderPlacement): ProviderHost {
  return placement === "inline" ? createInlineHost() : createProcessHost();
}

function createInlineHost(): ProviderHost {
  let running: RunningAgency[] = [];
  const stop = async () => {
    await Promise.all(running.map((a) => a.stop()));
    running = [];
  };
  return {
    async start(spec) {
      await stop();
      let subjects: string[] = [];
      for (const m of spec.members) {
        // Same seed for every provider: each holds records on the same subjects, as sectors do.
        const data = syntheticRecords(m.id, spec.category, { subjects: 4, perSubject: spec.perSubject, payloadBytes: spec.payloadBytes, seed: 1 });
        subjects = data.subjects;
        running.push(
          await startReferenceAgency({
            agencyId: m.id,
            trustDomain: spec.trustDomain,
            listen: "127.0.0.1:0",
            tls: { cert: m.cert, key: m.key, ca: spec.caFile },
            records: data.records,
            // The benchmark measures the exchange, not a ceiling: the one category, up to SENSITIVE.
            ceiling: { categories: { [spec.category]: 4 } },
          }),
        );
      }
      return { addresses: running.map((a) => a.address), subjects };
    },
    stop,
  };
}

function createProcessHost(): ProviderHost {
  const entry = join(__dirname, "provider-host.js");
  if (!existsSync(entry)) throw new Error(`${entry} not found: run \`npm run build\` first, or host providers inline`);
  const child = fork(entry, ["--serve"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ask = <T>(message: object) =>
    new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`provider host exited with code ${code}`));
      child.once("exit", onExit);
      child.once("message", (m: { ok?: T; error?: string }) => {
        child.off("exit", onExit);
        if (m.error !== undefined) reject(new Error(`provider host: ${m.error}`));
        else resolve(m.ok as T);
      });
      child.send(message);
    });
  return {
    start: (spec) => ask<HostedProviders>({ start: spec }),
    async stop() {
      if (child.exitCode !== null) return;
      await ask<true>({ stop: true }).catch(() => undefined);
      child.disconnect();
    },
  };
}

// Child side: serve start/stop requests from the parent until told to stop.
if (require.main === module && process.argv.includes("--serve") && process.send) {
  const host = createInlineHost();
  process.on("message", (m: { start?: ProviderSpec; stop?: true }) => {
    const reply = (p: Promise<unknown>) => p.then((ok) => process.send!({ ok }), (err: Error) => process.send!({ error: err.message }));
    if (m.start) void reply(host.start(m.start));
    else if (m.stop) void reply(host.stop().then(() => true));
  });
  process.on("disconnect", () => void host.stop().then(() => process.exit(0)));
}
