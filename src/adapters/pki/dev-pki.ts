/**
 * A complete development PKI in one call, for the demo, tests and benches.
 *
 * Layout written into `dir` (keys 0600, certificates 0644):
 *   root-ca.crt, root-ca.key         self-signed root
 *   issuing-ca.crt, issuing-ca.key   intermediate (pathLen 0) that signs every leaf
 *   ca-bundle.pem                    root then issuing CA: what servers and clients trust
 *   gateway.crt, gateway.key         serverAuth + clientAuth
 *   agencies/<id>.crt, .key          agency client certificate (clientAuth)
 *   agencies/<id>-server.crt, .key   the agency's CreditProvider server certificate (serverAuth)
 *   crl.pem                          issuing CA's CRL (empty until publishDevCrl revokes something)
 *   root-crl.pem                     root's CRL over the issuing CA (empty). Node's tls `crl`
 *                                    option checks CRLs for the whole chain: pass both files.
 *   index.json, issued/              the CA directory state of ca-directory.ts, listing the
 *                                    gateway and agency client certificates (names "gateway"
 *                                    and the agency ids), so that `credex pki list|revoke|crl|
 *                                    renew|issue --dir <dir>` work on a dev PKI. The agency
 *                                    server (provider) certificates are not in the index.
 *                                    What `credex pki` issues or renews goes to issued/<name>.*.
 * Every leaf .crt holds the leaf followed by the issuing CA, so a TLS peer
 * sends the full chain (RFC 8446 §4.4.2) and `openssl verify -CAfile root-ca.crt` works
 * with `-untrusted <leaf.crt>` too. The leaf is always the first PEM block.
 */
import { join } from "node:path";
import { mkdir, readFile } from "node:fs/promises";
import { createCa, issueCertificate, loadCa, DEFAULT_KEY_BITS, type IssuedCertificate } from "./certificate-authority.js";
import { buildCrl, type RevokedEntry } from "./crl.js";
import { validateUscc } from "../../core/identifiers/uscc.js";
import { writePrivateFile, writePublicFile } from "./pem-files.js";
import { indexEntryOf, type CaIndex, type IndexEntry, type IssueProfile } from "./ca-directory.js";

export interface DevPkiAgency {
  id: string;
  sector: string;
  uscc: string;
  /** Organisation name (subject O); default the id. */
  name?: string;
}

export interface DevPkiOptions {
  trustDomain: string;
  agencies: DevPkiAgency[];
  keyBits?: number;
  /** Leaf validity in days (default 365). */
  days?: number;
}

export interface CertAndKey {
  cert: string;
  key: string;
  serial: string;
  spiffeId: string;
}

export interface DevPki {
  dir: string;
  trustDomain: string;
  rootCaCert: string;
  rootCaKey: string;
  issuingCaCert: string;
  issuingCaKey: string;
  caBundle: string;
  crl: string;
  rootCrl: string;
  gateway: CertAndKey;
  agencies: Record<string, { client: CertAndKey; server: CertAndKey; sector: string; uscc: string }>;
}

const DEV_CRL_DAYS = 30;

/**
 * Rewrites the dev PKI's crl.pem so that it lists exactly `revoked` (for
 * revocation demos and tests). cRLNumber is the current time in seconds, so it
 * increases between calls as RFC 5280 §5.2.3 requires.
 */
export async function publishDevCrl(pki: Pick<DevPki, "issuingCaCert" | "issuingCaKey" | "crl">, revoked: RevokedEntry[], now = new Date()): Promise<void> {
  const issuing = loadCa(await readFile(pki.issuingCaCert, "utf8"), await readFile(pki.issuingCaKey, "utf8"));
  const nextUpdate = new Date(now.getTime() + DEV_CRL_DAYS * 24 * 3600 * 1000);
  const { pem } = buildCrl({ issuer: issuing, revoked, crlNumber: Math.floor(now.getTime() / 1000), thisUpdate: now, nextUpdate });
  await writePublicFile(pki.crl, pem);
}

async function writeLeaf(certPath: string, keyPath: string, issued: IssuedCertificate): Promise<CertAndKey> {
  await writePublicFile(certPath, issued.chainPem);
  await writePrivateFile(keyPath, issued.keyPem);
  return { cert: certPath, key: keyPath, serial: issued.serial, spiffeId: issued.spiffeId };
}

export async function createDevPki(dir: string, opts: DevPkiOptions): Promise<DevPki> {
  // Validate the whole request before spending seconds on CA keys.
  const ids = new Set<string>();
  for (const a of opts.agencies) {
    if (ids.has(a.id)) throw new RangeError(`agency "${a.id}" is listed twice`);
    ids.add(a.id);
    const check = validateUscc(a.uscc);
    if (!check.ok) throw new RangeError(`USCC "${a.uscc}" is invalid: ${check.problem}`);
  }
  const keyBits = opts.keyBits ?? DEFAULT_KEY_BITS;
  const td = opts.trustDomain;
  const root = await createCa({ commonName: `credex root CA (${td})`, keyBits });
  const issuing = await createCa({ commonName: `credex issuing CA (${td})`, keyBits, parent: root });
  const p = (...parts: string[]) => join(dir, ...parts);

  await writePublicFile(p("root-ca.crt"), root.certPem);
  await writePrivateFile(p("root-ca.key"), root.keyPem);
  await writePublicFile(p("issuing-ca.crt"), issuing.certPem);
  await writePrivateFile(p("issuing-ca.key"), issuing.keyPem);
  await writePublicFile(p("ca-bundle.pem"), root.certPem + issuing.certPem);
  const now = new Date();
  const crlWindow = { thisUpdate: now, nextUpdate: new Date(now.getTime() + DEV_CRL_DAYS * 24 * 3600 * 1000) };
  await writePublicFile(p("crl.pem"), buildCrl({ issuer: issuing, revoked: [], crlNumber: 1, ...crlWindow }).pem);
  await writePublicFile(p("root-crl.pem"), buildCrl({ issuer: root, revoked: [], crlNumber: 1, ...crlWindow }).pem);

  const common = { issuer: issuing, trustDomain: td, keyBits, days: opts.days ?? 365 };
  // Key generation runs in libuv's pool; issue concurrently but bounded to the pool size.
  const [gatewayIssued, ...agencyIssued] = await Promise.all([
    issueCertificate({ ...common, kind: "gateway", name: "gateway" }),
    ...opts.agencies.flatMap((a) => [
      issueCertificate({ ...common, kind: "agency", name: a.id, uscc: a.uscc, sector: a.sector, organization: a.name ?? a.id }),
      issueCertificate({ ...common, kind: "provider", name: a.id, organization: a.name ?? a.id }),
    ]),
  ]);
  const gateway = await writeLeaf(p("gateway.crt"), p("gateway.key"), gatewayIssued!);
  const entry = (issued: IssuedCertificate, profile: IssueProfile): IndexEntry => indexEntryOf(issued, profile, now);
  const index: CaIndex = {
    version: 1,
    trustDomain: td,
    keysEncrypted: false,
    crlNumber: 1,
    rootCrlNumber: 1,
    certificates: [
      entry(gatewayIssued!, { kind: "gateway", name: "gateway", days: common.days, keyBits }),
      ...opts.agencies.map((a, i) =>
        entry(agencyIssued[2 * i]!, { kind: "agency", name: a.id, uscc: a.uscc, sector: a.sector, organization: a.name ?? a.id, days: common.days, keyBits }),
      ),
    ],
  };
  await mkdir(p("issued"), { recursive: true, mode: 0o700 });
  await writePublicFile(p("index.json"), `${JSON.stringify(index, null, 2)}\n`);
  const agencies: DevPki["agencies"] = {};
  for (const [i, a] of opts.agencies.entries()) {
    agencies[a.id] = {
      client: await writeLeaf(p("agencies", `${a.id}.crt`), p("agencies", `${a.id}.key`), agencyIssued[2 * i]!),
      server: await writeLeaf(p("agencies", `${a.id}-server.crt`), p("agencies", `${a.id}-server.key`), agencyIssued[2 * i + 1]!),
      sector: a.sector,
      uscc: a.uscc,
    };
  }
  return {
    dir,
    trustDomain: td,
    rootCaCert: p("root-ca.crt"),
    rootCaKey: p("root-ca.key"),
    issuingCaCert: p("issuing-ca.crt"),
    issuingCaKey: p("issuing-ca.key"),
    caBundle: p("ca-bundle.pem"),
    crl: p("crl.pem"),
    rootCrl: p("root-crl.pem"),
    gateway,
    agencies,
  };
}
