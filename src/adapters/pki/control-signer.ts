import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { caPaths, CaOperationError, readIndex } from "./ca-directory.js";

export interface ControlSigner {
  readonly certificate: X509Certificate;
  readonly key: KeyObject;
}

/**
 * The key that signs control items: the CA directory's issuing CA. The
 * operator who may revoke already holds it (it signs the CRL), and every
 * gateway already trusts its certificate (the CA bundle), so control items
 * need no second trust anchor and a CA change (old and new CA in the bundle)
 * carries over to them.
 */
export async function loadControlSigner(dir: string, passphrase: string | undefined): Promise<ControlSigner> {
  const index = await readIndex(dir);
  if (index.keysEncrypted && passphrase === undefined) throw new CaOperationError("the CA keys are encrypted: give --passphrase-file");
  const p = caPaths(dir);
  const certificate = new X509Certificate(await readFile(p.issuingCert));
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: await readFile(p.issuingKey, "utf8"), ...(index.keysEncrypted ? { passphrase } : {}) });
  } catch (err) {
    throw new CaOperationError(`cannot load the issuing CA key: wrong passphrase? (${(err as Error).message})`);
  }
  return { certificate, key };
}
