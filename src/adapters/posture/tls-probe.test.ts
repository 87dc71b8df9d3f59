import { createServer, type Server, type TlsOptions } from "node:tls";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCa } from "../pki/certificate-authority.js";
import { DEFAULT_TLS12_CIPHERS } from "../grpc/server-credentials.js";
import { checkCipherSuites, checkTlsVersions } from "../../core/posture/check-tls.js";
import type { PostureEvidence } from "../../core/posture/posture-evidence.js";
import { probeTls } from "./tls-probe.js";

let material: { cert: string; key: string };
const servers: Server[] = [];

beforeAll(async () => {
  const ca = await createCa({ commonName: "probe test", keyBits: 2048 });
  material = { cert: ca.certPem, key: ca.keyPem };
});
afterAll(() => {
  for (const s of servers) s.close();
});

async function serve(options: TlsOptions): Promise<string> {
  const server = createServer({ ...material, requestCert: true, rejectUnauthorized: false, ...options }, (socket) => socket.end());
  server.on("tlsClientError", () => undefined);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const evidenceWith = (minVersion: "TLSv1.2" | "TLSv1.3", live: PostureEvidence["tls"]["live"]) =>
  ({ level: 3, tls: { minVersion, tls12Ciphers: DEFAULT_TLS12_CIPHERS.split(":"), clientCertificatesRequired: true, clientCertificateDetail: "", live } }) as unknown as PostureEvidence;

describe("probeTls", () => {
  it("sees a TLS 1.2 server with forward-secret AEAD suites refuse TLS 1.1 and static-RSA suites", async () => {
    const address = await serve({ minVersion: "TLSv1.2", ciphers: DEFAULT_TLS12_CIPHERS });
    const live = await probeTls(address);
    expect([live.tls13.accepted, live.tls12.accepted, live.tls11.accepted, live.tls12Weak.accepted]).toEqual([true, true, false, false]);
    expect(live.tls12.protocol).toBe("TLSv1.2");
    expect(live.tls12.cipher).toMatch(/^ECDHE-RSA-/);
    expect(live.tls11.inconclusive).toBeFalsy();
    expect(checkTlsVersions(evidenceWith("TLSv1.2", live)).status).toBe("pass");
    // Configured for 1.3 only but offering 1.2: the live evidence wins.
    expect(checkTlsVersions(evidenceWith("TLSv1.3", live)).status).toBe("fail");
    expect(checkCipherSuites(evidenceWith("TLSv1.2", live)).status).toBe("pass");
  });

  it("catches a server that still speaks TLS 1.1 and static-RSA suites", async () => {
    const address = await serve({ minVersion: "TLSv1.1", ciphers: "DEFAULT:AES128-SHA:AES128-GCM-SHA256@SECLEVEL=0" });
    const live = await probeTls(address);
    expect(live.tls11.accepted).toBe(true);
    expect(live.tls12Weak.accepted).toBe(true);
    expect(checkTlsVersions(evidenceWith("TLSv1.2", live)).status).toBe("fail");
    expect(checkCipherSuites(evidenceWith("TLSv1.2", live)).evidence).toMatch(/accepted a TLS 1\.2 handshake with AES/);
  });

  it("marks an address where nothing listens as not probed", async () => {
    const address = await serve({});
    servers.pop()!.close();
    const live = await probeTls(address);
    expect(live.tls13.inconclusive).toBe(true);
    expect(checkTlsVersions(evidenceWith("TLSv1.3", live)).evidence).toMatch(/not probed \(ECONNREFUSED\)/);
  });
});
