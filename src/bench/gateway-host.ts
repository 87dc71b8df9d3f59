/**
 * A bench gateway in a process of its own, for the scale-out curve: replicas
 * in one process share one event loop, so their aggregate cannot grow; in
 * their own processes they spread over the machine's cores, as replicas do in
 * a deployment. The child builds the gateway exactly as the bench does in
 * process (the config the bench wrote, the Kafka sink on the run's topics).
 */
import { fork } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadGatewayConfig } from "../config/gateway-config.js";
import { buildGatewayParts } from "../gateway/gateway-parts.js";
import { startGateway, type RunningGateway } from "../gateway/gateway.js";
import { createBenchKafkaSink } from "./bench-kafka-sink.js";

export interface GatewayProcessSpec {
  readonly configFile: string;
  readonly instance: string;
  readonly kafka: { readonly brokers: string; readonly topic: string; readonly checkpointTopic: string; readonly dir: string };
}

export interface GatewayProcess {
  readonly address: string;
  /** Drains the gateway (audit flushed) and ends the process. */
  stop(): Promise<void>;
}

type Request = { start: GatewayProcessSpec } | { stop: true };
type Reply = { ok: string | true } | { error: string };

export async function startGatewayProcess(spec: GatewayProcessSpec): Promise<GatewayProcess> {
  const entry = join(__dirname, "gateway-host.js");
  if (!existsSync(entry)) throw new Error(`${entry} not found: run \`npm run build\` first, or run the replicas in process`);
  // The parent's node flags (e.g. --max-semi-space-size) apply to the replicas too.
  const child = fork(entry, ["--serve"], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: process.execArgv });
  const ask = (message: Request) =>
    new Promise<string | true>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`gateway host exited with code ${code}`));
      child.once("exit", onExit);
      child.once("message", (m: Reply) => {
        child.off("exit", onExit);
        if ("error" in m) reject(new Error(`gateway host: ${m.error}`));
        else resolve(m.ok);
      });
      child.send(message);
    });
  const address = (await ask({ start: spec })) as string;
  return {
    address,
    async stop() {
      if (child.exitCode !== null) return;
      await ask({ stop: true }).catch(() => undefined);
      child.disconnect();
    },
  };
}

async function startFromSpec(spec: GatewayProcessSpec): Promise<RunningGateway> {
  const config = loadGatewayConfig(spec.configFile);
  const auditSink = await createBenchKafkaSink({ ...spec.kafka, config, instance: spec.instance });
  return startGateway(config, await buildGatewayParts(config, { auditSink }));
}

// Child side: one gateway, started and stopped on the parent's word.
if (require.main === module && process.argv.includes("--serve") && process.send) {
  let gateway: RunningGateway | undefined;
  const reply = (p: Promise<string | true>) =>
    p.then(
      (ok) => process.send!({ ok } satisfies Reply),
      (err: Error) => process.send!({ error: err.message } satisfies Reply),
    );
  process.on("message", (m: Request) => {
    if ("start" in m) void reply(startFromSpec(m.start).then((g) => ((gateway = g), g.address)));
    else void reply((gateway ? gateway.stop(5_000) : Promise.resolve()).then(() => true as const));
  });
  process.on("disconnect", () => void (gateway ? gateway.stop(5_000) : Promise.resolve()).then(() => process.exit(0)));
}
