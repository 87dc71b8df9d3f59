import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { issueCertificate, loadCa, type AdminRole } from "../adapters/pki/certificate-authority.js";
import { writePrivateFile, writePublicFile } from "../adapters/pki/pem-files.js";
import type { DevPki } from "../adapters/pki/dev-pki.js";

export interface AdminCertificate {
  readonly role: AdminRole;
  readonly name: string;
  readonly cert: string;
  readonly key: string;
  /** The enrolled TOTP secret (base32, 0600) when the demo enrolled this certificate's second factor. */
  readonly totpSecret?: string | undefined;
}

/** An administrator certificate (spiffe://<td>/admin/<role>/<name>) from the dev PKI's issuing CA, for the demo and tests. */
export async function issueAdminCertificate(pki: DevPki, role: AdminRole, name: string, keyBits?: number): Promise<AdminCertificate> {
  const issuer = loadCa(await readFile(pki.issuingCaCert, "utf8"), await readFile(pki.issuingCaKey, "utf8"));
  const issued = await issueCertificate({ kind: "admin", issuer, trustDomain: pki.trustDomain, name, role, ...(keyBits ? { keyBits } : {}) });
  const cert = join(pki.dir, "admins", `${role}-${name}.crt`);
  const key = join(pki.dir, "admins", `${role}-${name}.key`);
  await writePublicFile(cert, issued.chainPem);
  await writePrivateFile(key, issued.keyPem);
  return { role, name, cert, key };
}
