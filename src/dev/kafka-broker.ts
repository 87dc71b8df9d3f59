import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { isAbsolute, join, resolve } from "node:path";
import { waitForKafka } from "../adapters/kafka/kafka-admin.js";
import { ensureKafkaJars, KAFKA_VERSION, REPO_ROOT } from "./kafka-jars.js";
import { createKafkaServerProperties, type KafkaSslListenerInput } from "./kafka-server-properties.js";

/** `.credex/kafka` under the repository (gitignored). */
export const DEFAULT_KAFKA_DATA_DIR = join(REPO_ROOT, ".credex", "kafka");

const PID_FILE = "broker.pid";
const STATE_FILE = "broker.json";
const PROPERTIES_FILE = "server.properties";
const LOG_DIR = "data";
const DEFAULT_LOG_FILE = "kafka.log";

export interface StartKafkaBrokerOptions {
  /** Holds server.properties, the pid and state files, the log and the partition data. */
  readonly dataDir?: string;
  /** Broker stdout and stderr; default `<dataDir>/kafka.log`. */
  readonly logFile?: string;
  /** Bound on the wait for the broker to answer (default 90 s). */
  readonly readyTimeoutMs?: number;
  /** Where the jars are cached (default: see kafkaCacheDir). */
  readonly cacheDir?: string;
  /** Progress lines for people (downloads, formatting); default: none. */
  readonly log?: (line: string) => void;
  /** Also listen for SSL with a required client certificate (mTLS), on a port of its own (sslBrokers). */
  readonly ssl?: Omit<KafkaSslListenerInput, "port">;
}

export interface KafkaBroker {
  /** host:port for KAFKA_BROKERS. */
  readonly brokers: string;
  /** host:port of the SSL listener, when one was asked for. */
  readonly sslBrokers?: string;
  readonly pid: number;
  readonly dataDir: string;
}

export interface KafkaBrokerStatus {
  readonly running: boolean;
  readonly dataDir: string;
  readonly pid?: number;
  readonly brokers?: string;
  readonly logFile?: string;
}

interface BrokerState {
  readonly brokers: string;
  readonly brokerPort: number;
  readonly controllerPort: number;
  readonly sslPort?: number;
  readonly sslBrokers?: string;
  readonly pid: number;
  readonly kafkaVersion: string;
  readonly logFile: string;
  readonly startedAt: string;
}

function resolveDataDir(dataDir?: string): string {
  return dataDir === undefined || dataDir === "" ? DEFAULT_KAFKA_DATA_DIR : resolve(dataDir);
}

function readState(dataDir: string): BrokerState | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, STATE_FILE), "utf8")) as BrokerState;
  } catch {
    return undefined;
  }
}

function readPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, PID_FILE), "utf8").trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` is a live Kafka broker started on `propertiesPath`. On Linux
 * the command line is checked too, so a reused pid is never taken for (or
 * signalled as) our broker; a zombie has an empty command line.
 */
function isOurBroker(pid: number, propertiesPath: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const procCmdline = `/proc/${pid}/cmdline`;
  if (!existsSync("/proc/self/cmdline")) return true;
  try {
    const argv = readFileSync(procCmdline, "utf8").split("\0");
    return argv.includes("kafka.Kafka") && argv.includes(propertiesPath);
  } catch {
    return false;
  }
}

export function kafkaBrokerStatus(dataDir?: string): KafkaBrokerStatus {
  const dir = resolveDataDir(dataDir);
  const pid = readPid(dir);
  const state = readState(dir);
  if (pid === undefined || !isOurBroker(pid, join(dir, PROPERTIES_FILE))) return { running: false, dataDir: dir };
  return {
    running: true,
    dataDir: dir,
    pid,
    ...(state?.brokers !== undefined && { brokers: state.brokers }),
    ...(state?.logFile !== undefined && { logFile: state.logFile }),
  };
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once("error", () => resolvePromise(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolvePromise(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1", exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolvePromise(port) : reject(new Error("no free port on 127.0.0.1"))));
    });
  });
}

/** Keeps the previous ports when they are still free, so KAFKA_BROKERS stays the same across restarts. */
async function choosePorts(previous: BrokerState | undefined): Promise<{ brokerPort: number; controllerPort: number }> {
  if (previous && (await portIsFree(previous.brokerPort)) && (await portIsFree(previous.controllerPort))) {
    return { brokerPort: previous.brokerPort, controllerPort: previous.controllerPort };
  }
  const brokerPort = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === brokerPort) controllerPort = await freePort();
  return { brokerPort, controllerPort };
}

/** A Kafka cluster id: 16 random bytes, base64url without padding, as org.apache.kafka.common.Uuid prints it (never starting with '-'). */
export function createKafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

function javaClasspath(libs: string): string {
  return `${join(libs, "*")}`;
}

function runJava(args: string[], logFile: string, timeoutMs: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const fd = openSync(logFile, "a");
    const child = spawn("java", args, { stdio: ["ignore", fd, fd] });
    closeSync(fd);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run java (is a Java 17+ runtime installed?): ${err.message}`, { cause: err }));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise();
      else reject(new Error(`java ${args.slice(2).join(" ")} failed (${signal ?? `exit ${code}`})`));
    });
  });
}

/** The last lines of the broker log, for error messages. */
export function kafkaLogTail(logFile: string, lines = 30): string {
  try {
    const text = readFileSync(logFile, "utf8");
    return text.slice(-16_000).split("\n").slice(-lines - 1).join("\n").trimEnd();
  } catch {
    return `(no log at ${logFile})`;
  }
}

function notReady(dataDir: string, logFile: string, err: unknown): Error {
  const why = err instanceof Error ? err.message : String(err);
  return new Error(`the Kafka broker in ${dataDir} did not become ready: ${why}\n--- last lines of ${logFile} ---\n${kafkaLogTail(logFile)}`, { cause: err });
}

/**
 * Starts a single-node KRaft broker in the background (its own process group,
 * output to the log file) and resolves once it answers DescribeCluster. When a
 * broker already runs on `dataDir`, resolves to that one.
 */
export async function startKafkaBroker(opts: StartKafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const dataDir = resolveDataDir(opts.dataDir);
  const current = kafkaBrokerStatus(dataDir);
  if (current.running && current.pid !== undefined && current.brokers !== undefined) {
    const sslBrokers = readState(dataDir)?.sslBrokers;
    if (opts.ssl && sslBrokers === undefined) throw new Error(`a Kafka broker without an SSL listener already runs on ${dataDir}: stop it first`);
    return { brokers: current.brokers, ...(sslBrokers !== undefined && { sslBrokers }), pid: current.pid, dataDir };
  }
  mkdirSync(dataDir, { recursive: true });
  const logFile = opts.logFile === undefined ? join(dataDir, DEFAULT_LOG_FILE) : isAbsolute(opts.logFile) ? opts.logFile : resolve(opts.logFile);
  // One log per start, so the tail quoted on failure is about this start.
  writeFileSync(logFile, `credex: starting Kafka ${KAFKA_VERSION} in ${dataDir} at ${new Date().toISOString()}\n`);
  const libs = await ensureKafkaJars({ ...(opts.cacheDir !== undefined && { cacheDir: opts.cacheDir }), ...(opts.log && { log: opts.log }) });
  const classpath = javaClasspath(libs);

  const previous = readState(dataDir);
  const { brokerPort, controllerPort } = await choosePorts(previous);
  let sslPort: number | undefined;
  if (opts.ssl) {
    sslPort = previous?.sslPort !== undefined && (await portIsFree(previous.sslPort)) ? previous.sslPort : await freePort();
    while (sslPort === brokerPort || sslPort === controllerPort) sslPort = await freePort();
  }
  const propertiesPath = join(dataDir, PROPERTIES_FILE);
  const logDir = join(dataDir, LOG_DIR);
  // server.properties holds the SSL listener's private key: readable by its owner only.
  writeFileSync(
    propertiesPath,
    createKafkaServerProperties({ brokerPort, controllerPort, logDir, ...(opts.ssl && sslPort !== undefined && { ssl: { ...opts.ssl, port: sslPort } }) }),
    { mode: 0o600 },
  );
  chmodSync(propertiesPath, 0o600); // also when the file was there from an earlier start

  if (!existsSync(join(logDir, "meta.properties"))) {
    opts.log?.(`formatting ${logDir}`);
    try {
      await runJava(
        ["-cp", classpath, "kafka.tools.StorageTool", "format", "-t", createKafkaClusterId(), "-c", propertiesPath, "--ignore-formatted"],
        logFile,
        60_000,
      );
    } catch (err) {
      throw notReady(dataDir, logFile, err);
    }
  }

  const fd = openSync(logFile, "a");
  const child = spawn(
    "java",
    ["-Xmx512m", "-Xms128m", "-XX:+UseG1GC", "-Djava.awt.headless=true", "-Dorg.slf4j.simpleLogger.showDateTime=true", "-cp", classpath, "kafka.Kafka", propertiesPath],
    { detached: true, stdio: ["ignore", fd, fd], cwd: dataDir },
  );
  closeSync(fd);
  const exited = new AbortController();
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once("error", (err) => reject(new Error(`cannot run java (is a Java 17+ runtime installed?): ${err.message}`, { cause: err }))),
  );
  spawnFailed.catch(() => undefined); // awaited below; this only keeps a late 'error' from being an unhandled rejection
  child.once("exit", (code, signal) => exited.abort(`the broker exited (${signal ?? `exit ${code}`})`));
  const pid = child.pid;
  if (pid === undefined) {
    await spawnFailed;
    throw new Error("java did not start");
  }
  const brokers = `127.0.0.1:${brokerPort}`;
  const sslBrokers = sslPort !== undefined ? `127.0.0.1:${sslPort}` : undefined;
  writeFileSync(join(dataDir, PID_FILE), `${pid}\n`);
  const state: BrokerState = {
    brokers,
    brokerPort,
    controllerPort,
    ...(sslPort !== undefined && { sslPort, sslBrokers }),
    pid,
    kafkaVersion: KAFKA_VERSION,
    logFile,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(join(dataDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);

  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
  try {
    await Promise.race([waitForKafka(brokers, readyTimeoutMs, { signal: exited.signal }), spawnFailed]);
  } catch (err) {
    await stopKafkaBroker(dataDir).catch(() => undefined);
    throw notReady(dataDir, logFile, err);
  }
  // The broker outlives this process (the CLI exits once it is ready).
  child.removeAllListeners("exit");
  child.unref();
  return { brokers, ...(sslBrokers !== undefined && { sslBrokers }), pid, dataDir };
}

export interface StopKafkaBrokerOptions {
  /** How long a controlled shutdown may take before SIGKILL (default 30 s). */
  readonly graceMs?: number;
}

async function waitForExit(pid: number, propertiesPath: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isOurBroker(pid, propertiesPath)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return !isOurBroker(pid, propertiesPath);
}

/**
 * Stops the broker of `dataDir`: SIGTERM (a controlled shutdown), then SIGKILL
 * after the grace period. Resolves to false when no broker was running.
 */
export async function stopKafkaBroker(dataDir?: string, opts: StopKafkaBrokerOptions = {}): Promise<boolean> {
  const dir = resolveDataDir(dataDir);
  const propertiesPath = join(dir, PROPERTIES_FILE);
  const pid = readPid(dir);
  let wasRunning = false;
  if (pid !== undefined && isOurBroker(pid, propertiesPath)) {
    wasRunning = true;
    process.kill(pid, "SIGTERM");
    if (!(await waitForExit(pid, propertiesPath, opts.graceMs ?? 30_000))) {
      process.kill(pid, "SIGKILL");
      if (!(await waitForExit(pid, propertiesPath, 10_000))) throw new Error(`the Kafka broker (pid ${pid}) did not exit after SIGKILL`);
    }
  }
  rmSync(join(dir, PID_FILE), { force: true });
  const state = readState(dir);
  if (state) writeFileSync(join(dir, STATE_FILE), `${JSON.stringify({ ...state, pid: 0 }, null, 2)}\n`);
  return wasRunning;
}
