/**
 * The dev PKI and the deliberately bad certificates against a real TLS 1.3
 * handshake on 127.0.0.1 (node:tls, requestCert + rejectUnauthorized, as the
 * gateway's grpc-js server does): what TLS itself refuses, and what it lets
 * through for the authenticate stage to refuse (CA:true client certificates).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer, type Server } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCa } from "../src/adapters/pki/certificate-authority.js";
import { createDevPki, publishDevCrl, type DevPki } from "../src/adapters/pki/dev-pki.js";
import { issueTestCertificate, type TestCertificateFlaw } from "../src/adapters/pki/test-certificates.js";
import { describePeerCertificate } from "../src/core/peer-certificate.js";

const TD = "credex.test";
const USCC = "91310110666007217T";
let dir: string;
let pki: DevPki;
let server: Server;
let port: number;
const seen: Array<{ agencyId: string | undefined; isCa: boolean }> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "credex-tls-"));
  pki = await createDevPki(dir, { trustDomain: TD, agencies: [{ id: "pboc-crc", sector: "BANKING", uscc: USCC }], keyBits: 2048 });
  server = createServer(
    {
      cert: readFileSync(pki.gateway.cert),
      key: readFileSync(pki.gateway.key),
      ca: readFileSync(pki.caBundle),
      crl: [readFileSync(pki.rootCrl), readFileSync(pki.crl)],
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: "TLSv1.3",
    },
    (socket) => {
      const peer = socket.getPeerCertificate();
      const d = describePeerCertificate(peer.raw, TD);
      seen.push({ agencyId: d.agencyId, isCa: d.isCa });
      socket.end("hello\n");
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** Connects with a client certificate; resolves to what the server sent, or rejects with the TLS error. */
function handshake(certPem: string | Buffer, keyPem: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername: "localhost", ca: readFileSync(pki.caBundle), cert: certPem, key: keyPem });
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (data += chunk));
    socket.on("end", () => (data === "" ? reject(new Error("closed without data")) : resolve(data)));
    socket.on("error", reject);
  });
}

describe("dev PKI over TLS", () => {
  it("ok/the agency certificate authenticates to the gateway certificate", async () => {
    const client = pki.agencies["pboc-crc"]!.client;
    await expect(handshake(readFileSync(client.cert), readFileSync(client.key))).resolves.toBe("hello\n");
    expect(seen.at(-1)).toEqual({ agencyId: "pboc-crc", isCa: false });
  });

  it("fail/after publishDevCrl revokes it, a new server context refuses the agency", async () => {
    const client = pki.agencies["pboc-crc"]!.client;
    await publishDevCrl(pki, [{ serial: client.serial, revokedAt: new Date(), reason: "keyCompromise" }]);
    try {
      server.setSecureContext({
        cert: readFileSync(pki.gateway.cert),
        key: readFileSync(pki.gateway.key),
        ca: readFileSync(pki.caBundle),
        crl: [readFileSync(pki.rootCrl), readFileSync(pki.crl)],
      });
      await expect(handshake(readFileSync(client.cert), readFileSync(client.key))).rejects.toThrow();
    } finally {
      await publishDevCrl(pki, []);
      server.setSecureContext({
        cert: readFileSync(pki.gateway.cert),
        key: readFileSync(pki.gateway.key),
        ca: readFileSync(pki.caBundle),
        crl: [readFileSync(pki.rootCrl), readFileSync(pki.crl)],
      });
    }
    await expect(handshake(readFileSync(client.cert), readFileSync(client.key))).resolves.toBe("hello\n");
  });

  const refusedByTls: TestCertificateFlaw[] = ["self-signed-client", "expired", "not-yet-valid", "server-auth-only", "other-ca-client"];
  it.each(refusedByTls)("fail/%s is refused by the TLS handshake", async (flaw) => {
    const issuer = loadCa(readFileSync(pki.issuingCaCert, "utf8"), readFileSync(pki.issuingCaKey, "utf8"));
    const bad = await issueTestCertificate({ flaw, issuer, trustDomain: TD, agencyId: "pboc-crc", uscc: USCC, sector: "BANKING", keyBits: 2048 });
    const before = seen.length;
    await expect(handshake(bad.chainPem, bad.keyPem)).rejects.toThrow();
    expect(seen.length).toBe(before);
  });

  it("ca-as-client passes TLS: the authenticate stage must refuse it from isCa", async () => {
    const issuer = loadCa(readFileSync(pki.issuingCaCert, "utf8"), readFileSync(pki.issuingCaKey, "utf8"));
    const bad = await issueTestCertificate({ flaw: "ca-as-client", issuer, trustDomain: TD, agencyId: "pboc-crc", uscc: USCC, sector: "BANKING", keyBits: 2048 });
    // OpenSSL 3 accepts a CA:true leaf for the sslclient purpose (observed here), so the
    // certificate reaches the server: describePeerCertificate must expose isCa for CLIENT_CERT_IS_CA.
    await expect(handshake(bad.chainPem, bad.keyPem)).resolves.toBe("hello\n");
    expect(seen.at(-1)).toEqual({ agencyId: "pboc-crc", isCa: true });
  });
});
