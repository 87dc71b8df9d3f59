import { beforeAll, describe, expect, it } from "vitest";
import { X509Certificate } from "node:crypto";
import { authenticate, type AuthenticateDeps } from "./authenticate.js";
import { AgencyRegistry } from "../registry.js";
import { CredexError } from "../errors.js";
import type { PeerTls } from "../principal.js";
import { createCa, issueCertificate, type CertificateAuthority } from "../../adapters/pki/certificate-authority.js";
import { issueTestCertificate } from "../../adapters/pki/test-certificates.js";
import { RevocationSet } from "../../gateway/revocation-set.js";

const TD = "credex.example";
const USCC = "91310110666007217T";
let issuer: CertificateAuthority;
let good: Buffer;
let goodSerial: string;
let other: Buffer;
let caAsClient: Buffer;
let serverOnly: Buffer;
let wrongUscc: Buffer;
let admin: Buffer;

const der = (pem: string) => Buffer.from(new X509Certificate(pem).raw);

beforeAll(async () => {
  const root = await createCa({ commonName: "test root", keyBits: 2048 });
  issuer = await createCa({ commonName: "test issuing", keyBits: 2048, parent: root });
  const base = { issuer, trustDomain: TD, keyBits: 2048 } as const;
  const g = await issueCertificate({ ...base, kind: "agency", name: "pbccrc", uscc: USCC, sector: "BANKING" });
  good = der(g.certPem);
  goodSerial = new X509Certificate(g.certPem).serialNumber;
  other = der((await issueCertificate({ ...base, kind: "agency", name: "ghost", uscc: USCC, sector: "BANKING" })).certPem);
  wrongUscc = der((await issueCertificate({ ...base, kind: "agency", name: "pbccrc", uscc: "91350200MA2YJ1XR9G", sector: "BANKING" })).certPem);
  admin = der((await issueCertificate({ ...base, kind: "admin", name: "alice", role: "security" })).certPem);
  const flaw = { issuer, trustDomain: TD, agencyId: "pbccrc", uscc: USCC, sector: "BANKING", keyBits: 2048 } as const;
  caAsClient = der((await issueTestCertificate({ ...flaw, flaw: "ca-as-client" })).certPem);
  serverOnly = der((await issueTestCertificate({ ...flaw, flaw: "server-auth-only" })).certPem);
}, 60_000);

function deps(): AuthenticateDeps & { registry: AgencyRegistry; revocations: RevocationSet } {
  const registry = new AgencyRegistry([
    { id: "pbccrc", name: "pbccrc", sector: "BANKING", uscc: USCC, categories: [], clearance: 4, protectionLevel: 3, status: "active" },
  ]);
  return { trustDomain: TD, registry, revocations: new RevocationSet() };
}

const peer = (certificateDer: Buffer | undefined, authorized = true, authorizationError?: string): PeerTls => ({ secure: true, authorized, authorizationError, certificateDer });

function reasonOf(d: AuthenticateDeps, p: PeerTls): string {
  try {
    authenticate(d, p);
    return "OK";
  } catch (err) {
    return (err as CredexError).reason;
  }
}

describe("authenticate", () => {
  it("ok/an agency certificate of the exchange CA, matching the registry", () => {
    const principal = authenticate(deps(), peer(good));
    expect(principal).toMatchObject({ agencyId: "pbccrc", sector: "BANKING", uscc: USCC });
    expect(principal.certFingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ["fail/no certificate", () => peer(undefined, false), "CLIENT_CERT_MISSING"],
    ["fail/untrusted chain", () => peer(good, false, "UNABLE_TO_VERIFY_LEAF_SIGNATURE"), "CLIENT_CERT_UNTRUSTED"],
    ["fail/self-signed", () => peer(good, false, "DEPTH_ZERO_SELF_SIGNED_CERT"), "CLIENT_CERT_UNTRUSTED"],
    ["fail/expired", () => peer(good, false, "CERT_HAS_EXPIRED"), "CLIENT_CERT_EXPIRED"],
    ["fail/not yet valid", () => peer(good, false, "CERT_NOT_YET_VALID"), "CLIENT_CERT_NOT_YET_VALID"],
    ["fail/revoked at handshake (CRL)", () => peer(good, false, "CERT_REVOKED"), "CLIENT_CERT_REVOKED"],
    ["fail/CA certificate as client", () => peer(caAsClient), "CLIENT_CERT_IS_CA"],
    ["fail/serverAuth only", () => peer(serverOnly), "CLIENT_CERT_WRONG_USAGE"],
    ["fail/admin certificate on the exchange API", () => peer(admin), "CLIENT_IDENTITY_MISSING"],
    ["fail/agency not in the registry", () => peer(other), "AGENCY_UNKNOWN"],
    ["fail/USCC differs from the registry", () => peer(wrongUscc), "CLIENT_IDENTITY_MISMATCH"],
  ])("%s", (_name, makePeer, reason) => {
    expect(reasonOf(deps(), makePeer())).toBe(reason);
  });

  it("fail/revoked after the handshake: checked on every call", () => {
    const d = deps();
    expect(reasonOf(d, peer(good))).toBe("OK");
    d.revocations.add(goodSerial, "keyCompromise");
    try {
      authenticate(d, peer(good));
      expect.unreachable();
    } catch (err) {
      expect((err as CredexError).reason).toBe("CLIENT_CERT_REVOKED");
      expect((err as CredexError).metadata["revocation_reason"]).toBe("keyCompromise");
    }
  });

  it("fail/suspended agency, then resumed", () => {
    const d = deps();
    d.registry.suspend("pbccrc", "bulk harvesting incident INC-1");
    expect(reasonOf(d, peer(good))).toBe("AGENCY_SUSPENDED");
    d.registry.resume("pbccrc");
    expect(reasonOf(d, peer(good))).toBe("OK");
  });

  it("fail/another trust domain", () => {
    expect(reasonOf({ ...deps(), trustDomain: "other.example" }, peer(good))).toBe("CLIENT_IDENTITY_MISSING");
  });
});

// Member types: the sector comes from the registry, and the certificate's OU must name the same one.
describe("authenticate: the new member types' certificates", () => {
  const members = [
    { id: "sh-tax", sector: "TAX" },
    { id: "sh-amr", sector: "MARKET_SUPERVISION" },
    { id: "sh-court", sector: "COURT" },
    { id: "bureau", sector: "CREDIT_BUREAU" },
  ] as const;
  const registry = () =>
    new AgencyRegistry(members.map((m) => ({ id: m.id, name: m.id, sector: m.sector, uscc: USCC, categories: [], clearance: 3, protectionLevel: 3, status: "active" as const })));
  const issue = async (id: string, sector: string) => der((await issueCertificate({ issuer, trustDomain: TD, keyBits: 2048, kind: "agency", name: id, uscc: USCC, sector })).certPem);

  it.each(members)("ok/$sector: OU $sector authenticates as $id with that sector", async ({ id, sector }) => {
    const principal = authenticate({ trustDomain: TD, registry: registry(), revocations: new RevocationSet() }, peer(await issue(id, sector)));
    expect(principal).toMatchObject({ agencyId: id, sector });
  });

  it("fail/a credit bureau's certificate claiming OU=COURT is refused (CLIENT_IDENTITY_MISMATCH): a sector's rights follow the registry, never the certificate alone", async () => {
    const forged = await issue("bureau", "COURT");
    expect(reasonOf({ trustDomain: TD, registry: registry(), revocations: new RevocationSet() }, peer(forged))).toBe("CLIENT_IDENTITY_MISMATCH");
  });
});
