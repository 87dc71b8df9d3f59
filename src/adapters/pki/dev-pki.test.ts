import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDevPki, type DevPki } from "./dev-pki.js";

const TD = "credex.test";
const AGENCIES = [
  { id: "pboc-crc", sector: "BANKING", uscc: "91310110666007217T", name: "中国人民银行征信中心" },
  { id: "csrc", sector: "SECURITIES", uscc: "91350200MA2YJ1XR9G" },
];

let dir: string;
let pki: DevPki;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "credex-dev-pki-"));
  pki = await createDevPki(dir, { trustDomain: TD, agencies: AGENCIES, keyBits: 2048 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** PEM blocks of a file, in order. */
const blocks = (path: string) => readFileSync(path, "utf8").match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];

function opensslVerify(leafFile: string, purpose: "sslclient" | "sslserver"): string {
  return execFileSync("openssl", ["verify", "-purpose", purpose, "-CAfile", pki.rootCaCert, "-untrusted", leafFile, leafFile], {
    encoding: "utf8",
  });
}

describe("createDevPki", () => {
  it("writes the documented layout and returns its paths", () => {
    expect(pki.rootCaCert).toBe(join(dir, "root-ca.crt"));
    expect(pki.caBundle).toBe(join(dir, "ca-bundle.pem"));
    expect(pki.gateway.cert).toBe(join(dir, "gateway.crt"));
    expect(pki.agencies["pboc-crc"]!.client.key).toBe(join(dir, "agencies", "pboc-crc.key"));
    expect(pki.agencies["csrc"]!.server.cert).toBe(join(dir, "agencies", "csrc-server.crt"));
    expect(blocks(pki.caBundle)).toEqual([...blocks(pki.rootCaCert), ...blocks(pki.issuingCaCert)]);
  });

  it("writes empty CRLs from the issuing CA and the root that verify", () => {
    for (const crl of [pki.crl, pki.rootCrl]) {
      const text = execFileSync("openssl", ["crl", "-in", crl, "-noout", "-text", "-CAfile", pki.caBundle], { encoding: "utf8", stdio: "pipe" });
      expect(text).toContain("No Revoked Certificates.");
    }
    expect(pki.crl).toBe(join(dir, "crl.pem"));
    expect(pki.rootCrl).toBe(join(dir, "root-crl.pem"));
  });

  it("writes every private key with mode 0600", () => {
    const keys = [pki.rootCaKey, pki.issuingCaKey, pki.gateway.key, ...Object.values(pki.agencies).flatMap((a) => [a.client.key, a.server.key])];
    expect(keys).toHaveLength(7);
    for (const k of keys) expect(statSync(k).mode & 0o777, k).toBe(0o600);
  });

  it("leaf files hold the leaf then the issuing CA, and verify with openssl for their purpose", () => {
    const issuingPem = blocks(pki.issuingCaCert)[0];
    for (const [file, purpose] of [
      [pki.gateway.cert, "sslserver"],
      [pki.gateway.cert, "sslclient"],
      [pki.agencies["pboc-crc"]!.client.cert, "sslclient"],
      [pki.agencies["csrc"]!.server.cert, "sslserver"],
    ] as const) {
      const b = blocks(file);
      expect(b).toHaveLength(2);
      expect(b[1]).toBe(issuingPem);
      expect(opensslVerify(file, purpose)).toContain(": OK");
    }
  });

  it("agency certificates are client-only; provider certificates server-only", () => {
    expect(() => opensslVerify(pki.agencies["csrc"]!.client.cert, "sslserver")).toThrow();
    expect(() => opensslVerify(pki.agencies["csrc"]!.server.cert, "sslclient")).toThrow();
  });

  it("carries the identities: SPIFFE URI SANs, USCC, sector, loopback names", () => {
    const agency = new X509Certificate(readFileSync(pki.agencies["pboc-crc"]!.client.cert));
    expect(agency.subjectAltName).toBe("URI:spiffe://credex.test/agency/pboc-crc");
    expect(agency.subject).toBe("CN=pboc-crc\nO=中国人民银行征信中心\nOU=BANKING\nserialNumber=91310110666007217T");
    const gateway = new X509Certificate(readFileSync(pki.gateway.cert));
    expect(gateway.subjectAltName).toBe("DNS:localhost, IP Address:127.0.0.1, URI:spiffe://credex.test/gateway");
    const provider = new X509Certificate(readFileSync(pki.agencies["csrc"]!.server.cert));
    expect(provider.subjectAltName).toBe("DNS:localhost, IP Address:127.0.0.1, URI:spiffe://credex.test/provider/csrc");
    expect(pki.agencies["csrc"]!.client.spiffeId).toBe("spiffe://credex.test/agency/csrc");
  });

  it("refuses an agency with an invalid USCC, naming the problem", async () => {
    const bad = mkdtempSync(join(tmpdir(), "credex-dev-pki-bad-"));
    try {
      await expect(
        createDevPki(bad, { trustDomain: TD, agencies: [{ id: "x", sector: "BANKING", uscc: "91310110666007217U" }], keyBits: 2048 }),
      ).rejects.toThrow('USCC "91310110666007217U" is invalid: check character at position 18 is "U", expected "T"');
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
