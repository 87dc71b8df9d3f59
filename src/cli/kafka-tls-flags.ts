import { resolve } from "node:path";
import { checkKafkaTlsFiles, KafkaTlsFileError, type KafkaTlsFiles } from "../config/kafka-tls-files.js";
import { UsageError } from "./command.js";

/** The flags of every command that talks to Kafka: the same client certificate files as the gateway config's kafka.tls. */
export const KAFKA_TLS_OPTIONS = {
  "kafka-ca": { type: "string" },
  "kafka-cert": { type: "string" },
  "kafka-key": { type: "string" },
} as const;

export const KAFKA_TLS_HELP = `  --kafka-ca <pem>              Kafka over TLS (all three or none): CA bundle of the brokers,
  --kafka-cert <pem>            this client's certificate (chain) and its key; TLS 1.2+, the
  --kafka-key <pem>             broker's certificate must name the host in --brokers`;

type KafkaTlsFlags = { readonly "kafka-ca"?: string | undefined; readonly "kafka-cert"?: string | undefined; readonly "kafka-key"?: string | undefined };

/** The files of --kafka-ca/--kafka-cert/--kafka-key, checked (a problem names its flag); undefined: plaintext. */
export function kafkaTlsFromFlags(v: KafkaTlsFlags): KafkaTlsFiles | undefined {
  const given = (["ca", "cert", "key"] as const).filter((which) => v[`kafka-${which}`] !== undefined);
  if (given.length === 0) return undefined;
  if (given.length < 3) throw new UsageError("--kafka-ca, --kafka-cert and --kafka-key go together: give all three");
  const files: KafkaTlsFiles = { ca: resolve(v["kafka-ca"]!), cert: resolve(v["kafka-cert"]!), key: resolve(v["kafka-key"]!) };
  try {
    checkKafkaTlsFiles(files);
  } catch (err) {
    if (err instanceof KafkaTlsFileError) throw new UsageError(`--kafka-${err.which}: ${err.message}`);
    throw err;
  }
  return files;
}
