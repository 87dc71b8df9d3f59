import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** The broker version fetched by deploy/kafka/pom.xml; keep both in step. */
export const KAFKA_VERSION = "4.4.0";

/** Repository root: src/dev/ (ts) and dist/dev/ (compiled) are both two levels down. */
export const REPO_ROOT = resolve(__dirname, "..", "..");

export const KAFKA_POM = join(REPO_ROOT, "deploy", "kafka", "pom.xml");

/** Written last, so a half-finished download is never taken for a cache. */
const COMPLETE_MARKER = ".complete";

/** Where the broker jars live: $CREDEX_KAFKA_CACHE or ~/.cache/credex/kafka-<version>. */
export function kafkaCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env["CREDEX_KAFKA_CACHE"];
  if (override !== undefined && override !== "") return resolve(override);
  return join(homedir(), ".cache", "credex", `kafka-${KAFKA_VERSION}`);
}

export function kafkaLibsDir(cacheDir = kafkaCacheDir()): string {
  return join(cacheDir, "libs");
}

export function kafkaJarsCached(cacheDir = kafkaCacheDir()): boolean {
  return existsSync(join(kafkaLibsDir(cacheDir), COMPLETE_MARKER));
}

export interface EnsureKafkaJarsOptions {
  readonly cacheDir?: string;
  /** Progress lines (one when a download starts); default: none. */
  readonly log?: (line: string) => void;
  /** Bound on the Maven run. */
  readonly timeoutMs?: number;
}

/**
 * Returns the directory holding the broker classpath, fetching it from Maven
 * Central with `mvn dependency:copy-dependencies` only when it is not cached.
 * The copy goes to a temporary sibling and is renamed into place, so parallel
 * first runs cannot leave a mixed or partial classpath.
 */
export async function ensureKafkaJars(options: EnsureKafkaJarsOptions = {}): Promise<string> {
  const cacheDir = options.cacheDir ?? kafkaCacheDir();
  const libs = kafkaLibsDir(cacheDir);
  if (kafkaJarsCached(cacheDir)) return libs;
  if (!existsSync(KAFKA_POM)) throw new Error(`cannot fetch the Kafka broker: ${KAFKA_POM} is missing`);
  mkdirSync(cacheDir, { recursive: true });
  const staging = join(cacheDir, `libs.tmp-${process.pid}-${Date.now()}`);
  options.log?.(`fetching Kafka ${KAFKA_VERSION} jars with Maven into ${libs}`);
  try {
    await runMaven(["-q", "-B", "-f", KAFKA_POM, "dependency:copy-dependencies", `-DoutputDirectory=${staging}`], options.timeoutMs ?? 600_000);
    const jars = readdirSync(staging).filter((f) => f.endsWith(".jar"));
    if (!jars.some((j) => j.startsWith(`kafka_2.13-${KAFKA_VERSION}`))) {
      throw new Error(`Maven finished but kafka_2.13-${KAFKA_VERSION}.jar is not in ${staging}`);
    }
    writeFileSync(join(staging, COMPLETE_MARKER), `${jars.length} jars\n`);
    if (kafkaJarsCached(cacheDir)) return libs; // another run finished first
    rmSync(libs, { recursive: true, force: true });
    renameSync(staging, libs);
    return libs;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function runMaven(args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("mvn", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-8_000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run mvn (is Maven installed?): ${err.message}`, { cause: err }));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise();
      else reject(new Error(`mvn ${args.join(" ")} failed (${signal ?? `exit ${code}`}):\n${output.trim()}`));
    });
  });
}
