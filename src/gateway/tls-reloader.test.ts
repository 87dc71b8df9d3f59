import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TlsMaterial } from "../adapters/grpc/server-credentials.js";
import { loadCa } from "../adapters/pki/certificate-authority.js";
import { buildCrl } from "../adapters/pki/crl.js";
import { createDevPki, publishDevCrl, type DevPki } from "../adapters/pki/dev-pki.js";
import { issueTestCertificate } from "../adapters/pki/test-certificates.js";
import { crlSuccessionProblem } from "./crl-succession.js";
import { RevocationSet } from "./revocation-set.js";
import { createTlsReloader, type ReloadOutcome } from "./tls-reloader.js";
import type { CrlInUse, TlsFiles } from "./tls-files.js";

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

describe("CRL replay: a reload never steps back from the CRLs in use", () => {
  const DAY = 86_400_000;
  const issuing = () => loadCa(readFileSync(pki.issuingCaCert, "utf8"), readFileSync(pki.issuingCaKey, "utf8"));
  /** A CRL of the dev PKI's issuing CA listing `serials`, numbered `crlNumber`. */
  const issuingCrl = (crlNumber: number, serials: string[] = [], thisUpdate = new Date()) =>
    buildCrl({ issuer: issuing(), crlNumber, thisUpdate, nextUpdate: new Date(thisUpdate.getTime() + DAY), revoked: serials.map((serial) => ({ serial, revokedAt: thisUpdate, reason: "keyCompromise" as const })) }).pem;
  const revokedSerial = () => pki.agencies["a1"]!.client.serial;

  it("CRL replay: fail/the previous CRL (lower cRLNumber, before the revocation) put back is refused; the revocation stays", () => {
    const files = served("replay");
    const previous = readFileSync(files.crl[1]!, "utf8"); // cRLNumber 1, lists nothing
    const { r, applied, outcomes, revocations } = reloader(files);
    writeFileSync(files.crl[1]!, issuingCrl(2, [revokedSerial()]));
    expect(r.reload("file-change").ok).toBe(true);
    expect(revocations.lookup(revokedSerial())).toBeDefined();
    writeFileSync(files.crl[1]!, previous);
    const outcome = r.reload("file-change");
    expect(outcome.ok ? "" : outcome.reason).toMatch(/^CRL replay: the CRL .*crl\.pem of .*credex issuing CA.* has cRLNumber 1, lower than 2 in use/);
    expect(applied).toHaveLength(1);
    expect(outcomes.at(-1)).toEqual(outcome);
    expect(revocations.lookup(revokedSerial())?.reason).toBe("keyCompromise");
    expect(r.current().crls.find((c) => c.source === files.crl[1])?.crlNumber).toBe(2n);
  });

  it("CRL replay: fail/the root's CRL in place of the issuing CA's is refused (the issuing CA stays in the bundle)", () => {
    const files = served("other-issuer");
    const { r, applied, revocations } = reloader(files);
    writeFileSync(files.crl[1]!, issuingCrl(2, [revokedSerial()]));
    expect(r.reload("file-change").ok).toBe(true);
    copyFileSync(files.crl[0]!, files.crl[1]!);
    const outcome = r.reload("file-change");
    expect(outcome.ok ? "" : outcome.reason).toMatch(/^CRL replay: no CRL of .*credex issuing CA.* any more \(the one in use came from .*crl\.pem, cRLNumber 2\) while its CA stays in the bundle/);
    expect(applied).toHaveLength(1);
    expect(revocations.lookup(revokedSerial())).toBeDefined();
  });

  it("CRL replay: fail/an old CRL put beside the new one in the same file is refused", () => {
    const files = served("beside");
    const { r } = reloader(files);
    const previous = readFileSync(files.crl[1]!, "utf8");
    writeFileSync(files.crl[1]!, issuingCrl(2, [revokedSerial()]) + previous);
    const outcome = r.reload("file-change");
    expect(outcome.ok ? "" : outcome.reason).toMatch(/crl\.pem holds another CRL of the same issuer .*; give one CRL per issuer/);
  });

  it("CRL replay: ok/a higher cRLNumber, the same CRL again, and the root's CRL in both files are applied", () => {
    const files = served("forward");
    const { r, applied } = reloader(files);
    writeFileSync(files.crl[1]!, issuingCrl(5, [revokedSerial()]));
    expect(r.reload("file-change").ok).toBe(true);
    expect(r.reload("file-change").ok).toBe(true);
    writeFileSync(files.crl[1]!, readFileSync(files.crl[1]!, "utf8") + readFileSync(files.crl[0]!, "utf8"));
    expect(r.reload("file-change").ok).toBe(true);
    writeFileSync(files.crl[1]!, issuingCrl(6));
    expect(r.reload("file-change").ok).toBe(true);
    expect(applied).toHaveLength(4);
  });

  it("CRL replay: ok/a CA taken out of the bundle takes its CRL with it", () => {
    const files = served("ca-out");
    const { r } = reloader(files, new RevocationSet(), () => new Date());
    // The bundle keeps only the issuing CA; the root's CRL goes with the root.
    writeFileSync(files.ca, readFileSync(pki.issuingCaCert, "utf8"));
    writeFileSync(files.crl[0]!, readFileSync(files.crl[1]!, "utf8"));
    expect(r.reload("admin")).toMatchObject({ ok: true });
  });

  const T = new Date("2026-12-01T00:00:00Z");
  const crl = (issuer: string, crlNumber: bigint | undefined, thisUpdate = T): CrlInUse => ({ issuer, issuerName: `CN=${issuer}`, crlNumber, thisUpdate, source: `${issuer}.pem`, der: Buffer.from(`${issuer}${crlNumber}`) });
  const earlier = new Date(T.getTime() - DAY);
  const later = new Date(T.getTime() + DAY);
  const cases: Array<[string, CrlInUse[], CrlInUse[], string[], RegExp | undefined]> = [
    ["ok/higher cRLNumber", [crl("A", 1n)], [crl("A", 2n, earlier)], ["A", "B"], undefined],
    ["ok/equal cRLNumber", [crl("A", 2n)], [crl("A", 2n)], ["A", "B"], undefined],
    ["ok/no cRLNumber, later thisUpdate", [crl("A", undefined)], [crl("A", undefined, later)], ["A", "B"], undefined],
    ["ok/a new issuer's CRL appears", [crl("A", 1n)], [crl("A", 1n), crl("B", 1n)], ["A", "B"], undefined],
    ["fail/lower cRLNumber (even with a later thisUpdate)", [crl("A", 3n)], [crl("A", 2n, later)], ["A", "B"], /CRL replay: the CRL A\.pem of CN=A has cRLNumber 2, lower than 3 in use/],
    ["fail/no cRLNumber, older thisUpdate", [crl("A", undefined)], [crl("A", undefined, earlier)], ["A", "B"], /CRL replay: the CRL A\.pem of CN=A was issued 2026-11-30T00:00:00\.000Z, before the one in use/],
    ["fail/cRLNumber dropped and older thisUpdate", [crl("A", 4n)], [crl("A", undefined, earlier)], ["A", "B"], /was issued .* before the one in use/],
    ["ok/an issuer's CRL goes with its CA (not in the bundle)", [crl("A", 1n), crl("B", 7n)], [crl("A", 1n)], ["A"], undefined],
    ["fail/an issuer's CRL disappears while its CA stays", [crl("A", 1n), crl("B", 7n)], [crl("A", 1n)], ["A", "B"], /CRL replay: no CRL of CN=B any more \(the one in use came from B\.pem, cRLNumber 7\)/],
  ];
  it.each(cases)("CRL replay: crlSuccessionProblem %s", (_name, inUse, next, bundle, problem) => {
    const found = crlSuccessionProblem(inUse, next, new Set(bundle));
    if (problem) expect(found).toMatch(problem);
    else expect(found).toBeUndefined();
  });
});

