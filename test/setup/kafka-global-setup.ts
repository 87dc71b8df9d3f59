import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node" with { "resolution-mode": "import" };
import { waitForKafka } from "../../src/adapters/kafka/kafka-admin.js";
import { startKafkaBroker, stopKafkaBroker } from "../../src/dev/kafka-broker.js";
import "../support/kafka.js";

/**
 * Vitest global setup of the integration tests: uses $KAFKA_BROKERS when set,
 * else starts a broker of its own in a fresh temporary directory (so parallel
 * and CI runs never share one) and stops it at teardown.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env["KAFKA_BROKERS"];
  if (given !== undefined && given !== "") {
    try {
      await waitForKafka(given, 30_000);
    } catch (err) {
      throw new Error(`credex tests need a Kafka broker: KAFKA_BROKERS=${given} does not answer.\ncause: ${(err as Error).message}\nStart one (npm run kafka -- start) or unset KAFKA_BROKERS to let the tests start their own.`, {
        cause: err,
      });
    }
    project.provide("kafkaBrokers", given);
    return undefined;
  }
  const dataDir = mkdtempSync(join(tmpdir(), "credex-kafka-"));
  const started = Date.now();
  let broker;
  try {
    broker = await startKafkaBroker({ dataDir, log: (line) => process.stderr.write(`[kafka] ${line}\n`) });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    const cause = err instanceof Error ? err.message : String(err);
    throw new Error(
      `credex tests need a Kafka broker: starting one failed.\ncause: ${cause}\n` +
        "Set KAFKA_BROKERS=host:port to use a running broker, or ensure java (17+) and mvn are installed and mvn can fetch org.apache.kafka:kafka_2.13 (see deploy/kafka/pom.xml).",
      { cause: err },
    );
  }
  process.stderr.write(`[kafka] broker ${broker.brokers} ready in ${Date.now() - started} ms (pid ${broker.pid}, ${dataDir})\n`);
  // Workers are forked after global setup, so they inherit this as well as the provided value.
  process.env["KAFKA_BROKERS"] = broker.brokers;
  project.provide("kafkaBrokers", broker.brokers);

  // If vitest ends without running teardown (an uncaught error, process.exit), the broker must not outlive it.
  const pid = broker.pid;
  const killOnExit = () => {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  process.once("exit", killOnExit);

  return async () => {
    process.off("exit", killOnExit);
    delete process.env["KAFKA_BROKERS"];
    try {
      await stopKafkaBroker(dataDir);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
}
