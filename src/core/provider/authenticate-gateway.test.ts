import { beforeAll, describe, expect, it } from "vitest";
import { X509Certificate } from "node:crypto";
import { authenticateGateway, type AuthenticateGatewayDeps } from "./authenticate-gateway.js";
import { CredexError, codeOf } from "../errors.js";
import type { PeerTls } from "../principal.js";
import { createCa, generateRsaKeyPair, issueCertificate, issuedFrom, signCertificate, validityFrom, type CertificateAuthority } from "../../adapters/pki/certificate-authority.js";
import { issueTestCertificate } from "../../adapters/pki/test-certificates.js";
import { RevocationSet } from "../../gateway/revocation-set.js";

const TD = "credex.example";
const USCC = "91310110666007217T";
let issuer: CertificateAuthority;
const certs: Record<string, Buffer> = {};
let gatewaySerial: string;

const der = (pem: string) => Buffer.from(new X509Certificate(pem).raw);

beforeAll(async () => {
  const root = await createCa({ commonName: "test root", keyBits: 2048 });
  issuer = await createCa({ commonName: "test issuing", keyBits: 2048, parent: root });
  const base = { issuer, trustDomain: TD, keyBits: 2048 } as const;
  const gateway = await issueCertificate({ ...base, kind: "gateway", name: "gateway" });
  certs["gateway"] = der(gateway.certPem);
  gatewaySerial = new X509Certificate(gateway.certPem).serialNumber;
  certs["foreignGateway"] = der((await issueCertificate({ ...base, trustDomain: "other.example", kind: "gateway", name: "gateway" })).certPem);
  certs["agency"] = der((await issueCertificate({ ...base, kind: "agency", name: "pbccrc", uscc: USCC, sector: "BANKING" })).certPem);
  certs["provider"] = der((await issueCertificate({ ...base, kind: "provider", name: "pbccrc" })).certPem);
  certs["admin"] = der((await issueCertificate({ ...base, kind: "admin", name: "alice", role: "security" })).certPem);
  certs["caAsClient"] = der((await issueTestCertificate({ issuer, trustDomain: TD, agencyId: "pbccrc", uscc: USCC, sector: "BANKING", keyBits: 2048, flaw: "ca-as-client" })).certPem);
  // Hand-made: the gateway's URI SAN next to an agency's, and the gateway's URI SAN with no clientAuth usage.
  const keys = await generateRsaKeyPair(2048);
  const spec = (uris: string[], clientAuth: boolean) => ({
    subject: [{ name: "commonName", value: "gateway" }],
    publicKey: keys.publicKey,
    issuer,
    signingKey: issuer.privateKey,
    ...validityFrom(new Date(Date.now() - 3_600_000), 30),
    isCa: false,
    extKeyUsage: clientAuth ? { clientAuth: true } : { serverAuth: true },
    uris,
  });
  const pemOf = (uris: string[], clientAuth: boolean) => issuedFrom("gateway", signCertificate(spec(uris, clientAuth)), keys.keyPem, issuer, uris[0]!).certPem;
  certs["twoUris"] = der(pemOf([`spiffe://${TD}/gateway`, `spiffe://${TD}/agency/pbccrc`], true));
  certs["gatewayServerOnly"] = der(pemOf([`spiffe://${TD}/gateway`], false));
}, 60_000);

const deps = (): AuthenticateGatewayDeps & { revocations: RevocationSet } => ({ trustDomain: TD, revocations: new RevocationSet() });
const peer = (certificateDer: Buffer | undefined, authorized = true, authorizationError?: string): PeerTls => ({ secure: true, authorized, authorizationError, certificateDer });

function refusalOf(d: AuthenticateGatewayDeps, p: PeerTls): CredexError | "OK" {
  try {
    authenticateGateway(d, p);
    return "OK";
  } catch (err) {
    return err as CredexError;
  }
}

describe("authenticateGateway", () => {
  it("ok/the trust domain's gateway certificate", () => {
    const caller = authenticateGateway(deps(), peer(certs["gateway"]));
    expect(caller.spiffeId).toBe(`spiffe://${TD}/gateway`);
    expect(caller.certFingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ["fail/no certificate", () => peer(undefined, false), "CLIENT_CERT_MISSING"],
    ["fail/plaintext", () => ({ secure: false, authorized: false }), "CLIENT_CERT_MISSING"],
    ["fail/untrusted chain", () => peer(certs["gateway"], false, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"), "CLIENT_CERT_UNTRUSTED"],
    ["fail/expired", () => peer(certs["gateway"], false, "CERT_HAS_EXPIRED"), "CLIENT_CERT_EXPIRED"],
    ["fail/revoked at handshake (CRL)", () => peer(certs["gateway"], false, "CERT_REVOKED"), "CLIENT_CERT_REVOKED"],
    ["fail/serverAuth only at handshake", () => peer(certs["gatewayServerOnly"], false, "INVALID_PURPOSE"), "CLIENT_CERT_WRONG_USAGE"],
    ["fail/gateway URI without clientAuth", () => peer(certs["gatewayServerOnly"]), "CLIENT_CERT_WRONG_USAGE"],
    ["fail/CA certificate as client", () => peer(certs["caAsClient"]), "CLIENT_CERT_IS_CA"],
    ["fail/an agency's client certificate of the same CA", () => peer(certs["agency"]), "CALLER_NOT_GATEWAY"],
    ["fail/an admin certificate", () => peer(certs["admin"]), "CALLER_NOT_GATEWAY"],
    ["fail/a provider's certificate", () => peer(certs["provider"]), "CLIENT_CERT_WRONG_USAGE"],
    ["fail/the gateway's URI SAN next to another", () => peer(certs["twoUris"]), "CALLER_NOT_GATEWAY"],
    ["fail/the gateway of another trust domain", () => peer(certs["foreignGateway"]), "CALLER_FOREIGN_TRUST_DOMAIN"],
  ])("%s", (_name, makePeer, reason) => {
    const refusal = refusalOf(deps(), makePeer() as PeerTls);
    expect(refusal === "OK" ? "OK" : refusal.reason).toBe(reason);
    // Identity refusals are UNAUTHENTICATED (errors.ts).
    expect(codeOf(reason as CredexError["reason"])).toBe(16);
  });

  it("fail/another trust domain names it in the metadata", () => {
    const refusal = refusalOf(deps(), peer(certs["foreignGateway"]));
    expect(refusal !== "OK" && refusal.metadata).toEqual({ trust_domain: "other.example" });
  });

  it("fail/revoked after the handshake: checked on every call, with the reason", () => {
    const d = deps();
    expect(refusalOf(d, peer(certs["gateway"]))).toBe("OK");
    d.revocations.add(gatewaySerial, "keyCompromise");
    const refusal = refusalOf(d, peer(certs["gateway"]));
    expect(refusal !== "OK" && [refusal.reason, refusal.metadata["revocation_reason"]]).toEqual(["CLIENT_CERT_REVOKED", "keyCompromise"]);
  });
});
