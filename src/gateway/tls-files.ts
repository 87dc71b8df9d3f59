import { readFileSync } from "node:fs";
import type { TlsMaterial } from "../adapters/grpc/server-credentials.js";

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  readonly crl?: string | undefined;
}

/** Reads the served certificate, key, CA bundle and CRL; a missing or unreadable file is an error naming it. */
export function readTlsMaterial(files: TlsFiles): TlsMaterial {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  return {
    cert: read(files.cert, "certificate"),
    key: read(files.key, "private key"),
    ca: read(files.ca, "CA bundle"),
    ...(files.crl ? { crl: read(files.crl, "CRL") } : {}),
  };
}
