import { X509Certificate } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { AdminCertificateFact, CertificateFact } from "../../core/posture/posture-evidence.js";
import { pemCertificateBlocks } from "../../core/pem-certificates.js";


export function certificatesOfPem(pem: string): X509Certificate[] {
  return pemCertificateBlocks(pem).map((block) => new X509Certificate(block));
}

export function factOf(cert: X509Certificate, role: string, file: string): CertificateFact {
  const details = cert.publicKey.asymmetricKeyDetails ?? {};
  const type = cert.publicKey.asymmetricKeyType ?? "unknown";
  const curveBits: Record<string, number> = { prime256v1: 256, "P-256": 256, secp384r1: 384, "P-384": 384, secp521r1: 521, "P-521": 521, SM2: 256 };
  const keyBits = details.modulusLength ?? (details.namedCurve ? (curveBits[details.namedCurve] ?? 0) : type === "ed25519" ? 256 : 0);
  return { role, file, subject: cert.subject.replace(/\n/g, ", "), keyType: type, keyBits, notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

/** The leaf (first PEM block) of a certificate file, or every certificate of a CA bundle. */
export async function certificateFactsOf(file: string, role: string, all = false): Promise<CertificateFact[]> {
  const certs = certificatesOfPem(await readFile(file, "utf8"));
  const chosen = all ? certs : certs.slice(0, 1);
  return chosen.map((c, i) => factOf(c, all && chosen.length > 1 ? `${role} ${i + 1}` : role, file));
}

/** Bound on files looked at when searching a folder for administrator certificates. */
const MAX_FILES = 2_000;

/**
 * Administrator certificates under `dir` (recursive, .crt/.pem): those whose
 * URI SAN is spiffe://<trustDomain>/admin/<role>/<name> (the admin profile of
 * src/adapters/pki/certificate-authority.ts). Only the leaf of each file counts.
 */
export async function findAdminCertificates(dir: string, trustDomain: string): Promise<{ admins: AdminCertificateFact[]; facts: CertificateFact[] }> {
  const admins: AdminCertificateFact[] = [];
  const facts: CertificateFact[] = [];
  const prefix = `spiffe://${trustDomain}/admin/`;
  let seen = 0;
  const walk = async (d: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (++seen > MAX_FILES) return;
      const path = join(d, entry.name);
      if (entry.isDirectory() && depth < 4) await walk(path, depth + 1);
      else if (entry.isFile() && /\.(crt|pem)$/.test(entry.name)) {
        let leaf: X509Certificate | undefined;
        try {
          leaf = certificatesOfPem(await readFile(path, "utf8"))[0];
        } catch {
          continue;
        }
        const uri = (leaf?.subjectAltName ?? "").split(/,\s*/).find((s) => s.startsWith(`URI:${prefix}`));
        if (!leaf || !uri) continue;
        const role = uri.slice(4 + prefix.length).split("/")[0] ?? "";
        admins.push({ role, file: path, subject: leaf.subject.replace(/\n/g, ", "), fingerprint: leaf.fingerprint256, notAfter: new Date(leaf.validTo) });
        facts.push(factOf(leaf, `admin ${role}`, path));
      }
    }
  };
  await walk(dir, 0);
  return { admins, facts };
}
