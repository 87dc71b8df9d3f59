import { readFileSync } from "node:fs";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { pemCertificateBlocks } from "../core/pem-certificates.js";

/** PEM files for Kafka over TLS with a client certificate (absolute paths). */
export interface KafkaTlsFiles {
  /** CA bundle the brokers' certificates must lead to. */
  readonly ca: string;
  /** This client's certificate, leaf first, with its intermediates. */
  readonly cert: string;
  /** Its private key (unencrypted PEM: PKCS#8, PKCS#1 or SEC1). */
  readonly key: string;
}

/** One of the three files is unusable; `which` names it so the caller can point at its own key or flag. */
export class KafkaTlsFileError extends Error {
  constructor(
    readonly which: keyof KafkaTlsFiles,
    problem: string,
  ) {
    super(problem);
    this.name = "KafkaTlsFileError";
  }
}

function read(which: keyof KafkaTlsFiles, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new KafkaTlsFileError(which, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function certificates(which: keyof KafkaTlsFiles, path: string, pem: string): X509Certificate[] {
  const blocks = pemCertificateBlocks(pem);
  if (blocks.length === 0) throw new KafkaTlsFileError(which, `${path} holds no PEM certificate`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new KafkaTlsFileError(which, `${path}: certificate ${i + 1} does not parse: ${(err as Error).message}`);
    }
  });
}

/**
 * Checks the three files once, where they are configured (gateway config, CLI flags), so that a
 * wrong path or a key that is not the certificate's fails the start with its name rather than as a
 * TLS handshake error at the first Kafka write. The files are read again by the Kafka client for
 * each client it makes (src/adapters/kafka/kafka-client.ts).
 */
export function checkKafkaTlsFiles(files: KafkaTlsFiles): void {
  certificates("ca", files.ca, read("ca", files.ca));
  const [leaf] = certificates("cert", files.cert, read("cert", files.cert));
  const keyPem = read("key", files.key);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyPem)) throw new KafkaTlsFileError("key", `${files.key} holds no PEM private key`);
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(keyPem)) {
    throw new KafkaTlsFileError("key", `${files.key} is encrypted: give the unencrypted key (a mounted secret, readable by the gateway only)`);
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new KafkaTlsFileError("key", `${files.key}: the private key does not parse: ${(err as Error).message}`);
  }
  if (!leaf!.checkPrivateKey(key)) throw new KafkaTlsFileError("key", `${files.key} is not the key of the certificate in ${files.cert}`);
}
