import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TlsMaterial } from "../adapters/grpc/server-credentials.js";
import { loadCa } from "../adapters/pki/certificate-authority.js";
import { createDevPki, publishDevCrl, type DevPki } from "../adapters/pki/dev-pki.js";
import { issueTestCertificate } from "../adapters/pki/test-certificates.js";
import { RevocationSet } from "./revocation-set.js";
import { createTlsReloader, type ReloadOutcome } from "./tls-reloader.js";
import type { TlsFiles } from "./tls-files.js";

const USCC = "91310110666007217T";
let root: string;
let pki: DevPki;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "credex-reloader-"));
  pki = await createDevPki(join(root, "pki"), { trustDomain: "credex.test", agencies: [{ id: "a1", sector: "BANKING", uscc: USCC }], keyBits: 2048 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A private copy of the gateway's files, so each test can break its own. */
function served(name: string): TlsFiles & { crl: string[] } {
  const dir = mkdtempSync(join(root, `${name}-`));
  const f = { cert: join(dir, "gw.crt"), key: join(dir, "gw.key"), ca: join(dir, "ca.pem"), crl: [join(dir, "root-crl.pem"), join(dir, "crl.pem")] };
  copyFileSync(pki.gateway.cert, f.cert);
  copyFileSync(pki.gateway.key, f.key);
  copyFileSync(pki.caBundle, f.ca);
  copyFileSync(pki.rootCrl, f.crl[0]!);
  copyFileSync(pki.crl, f.crl[1]!);
  return f;
}

function reloader(files: TlsFiles, revocations = new RevocationSet(), now?: () => Date) {
  const applied: TlsMaterial[] = [];
  const outcomes: ReloadOutcome[] = [];
  const r = createTlsReloader({ files, apply: (m) => applied.push(m), revocations, watch: false, onReload: (o) => outcomes.push(o), ...(now ? { now } : {}) });
  return { r, applied, outcomes, revocations };
}

describe("TLS reload: a bad set is refused with its reason, the old one stays", () => {
  it("ok/reload: a new certificate and key are applied; the CRLs are one buffer each", () => {
    const files = served("ok");
    const { r, applied } = reloader(files);
    copyFileSync(pki.agencies["a1"]!.server.cert, files.cert);
    copyFileSync(pki.agencies["a1"]!.server.key, files.key);
    const outcome = r.reload("admin");
    expect(outcome.ok).toBe(true);
    expect(applied).toHaveLength(1);
    expect(new X509Certificate(applied[0]!.cert).serialNumber.toLowerCase()).toBe(pki.agencies["a1"]!.server.serial);
    expect(Array.isArray(applied[0]!.crl) && applied[0]!.crl.length).toBe(2);
  });

  const refusals: Array<[string, (f: TlsFiles & { crl: string[] }) => void, RegExp]> = [
    ["fail/malformed-pem", (f) => writeFileSync(f.cert, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"), /gw\.crt: certificate 1 cannot be parsed/],
    ["fail/half-written", (f) => writeFileSync(f.cert, readFileSync(f.cert, "utf8").slice(0, 300)), /gw\.crt holds no PEM certificate/],
    ["fail/key-mismatch", (f) => copyFileSync(pki.agencies["a1"]!.client.key, f.key), /the private key .*gw\.key does not belong to the certificate .*gw\.crt/],
    ["fail/key-garbage", (f) => writeFileSync(f.key, "nonsense"), /the private key .*gw\.key cannot be parsed/],
    ["fail/bundle-not-ca", (f) => copyFileSync(pki.agencies["a1"]!.client.cert, f.ca), /the CA bundle .*ca\.pem holds a certificate that is not a CA/],
    ["fail/crl-missing", (f) => rmSync(f.crl[1]!), /cannot read the CRL .*crl\.pem: ENOENT/],
    ["fail/crl-not-a-crl", (f) => copyFileSync(f.cert, f.crl[1]!), /the CRL .*crl\.pem: .*holds no PEM "X509 CRL" block/],
  ];
  it.each(refusals)("%s", (_name, breakIt, reason) => {
    const files = served("bad");
    const { r, applied, outcomes } = reloader(files);
    breakIt(files);
    const outcome = r.reload("file-change");
    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? "" : outcome.reason).toMatch(reason);
    expect(applied).toEqual([]);
    expect(outcomes).toEqual([outcome]);
    expect(new X509Certificate(r.current().material.cert).serialNumber.toLowerCase()).toBe(pki.gateway.serial);
  });

  it("fail/expired and not-yet-valid served certificates are refused", async () => {
    const issuer = loadCa(readFileSync(pki.issuingCaCert, "utf8"), readFileSync(pki.issuingCaKey, "utf8"));
    for (const [flaw, reason] of [["expired", /expired on/], ["not-yet-valid", /is not valid before/]] as const) {
      const files = served(flaw);
      const { r } = reloader(files);
      const bad = await issueTestCertificate({ flaw, issuer, trustDomain: "credex.test", agencyId: "a1", uscc: USCC, sector: "BANKING" });
      writeFileSync(files.cert, bad.chainPem);
      writeFileSync(files.key, bad.keyPem);
      const outcome = r.reload("admin");
      expect(outcome.ok ? "" : outcome.reason).toMatch(reason);
    }
  });

  it("fail/a start with a broken set throws (no server starts on it)", () => {
    const files = served("start");
    writeFileSync(files.key, "nonsense");
    expect(() => reloader(files)).toThrow(/cannot be parsed/);
  });

  it("ok/CRL entries go to the RevocationSet with their reasons; a CRL reload keeps announced revocations", async () => {
    const files = served("crl");
    const revocations = new RevocationSet();
    revocations.add("EE01", "keyCompromise");
    const { r } = reloader(files, revocations);
    await publishDevCrl({ ...pki, crl: files.crl[1]! }, [{ serial: pki.agencies["a1"]!.client.serial, revokedAt: new Date(), reason: "affiliationChanged" }]);
    expect(r.reload("file-change").ok).toBe(true);
    expect(revocations.lookup(pki.agencies["a1"]!.client.serial)?.reason).toBe("affiliationChanged");
    expect(revocations.lookup("ee01")?.reason).toBe("keyCompromise");
  });

  it("ok/a CRL file holding two CRLs (old and new CA during a change) becomes two buffers", () => {
    const files = served("two");
    writeFileSync(files.crl[1]!, readFileSync(files.crl[1]!, "utf8") + readFileSync(files.crl[0]!, "utf8"));
    const { r } = reloader(files);
    const crl = r.current().material.crl;
    expect(Array.isArray(crl) && crl.length).toBe(3);
  });
});
