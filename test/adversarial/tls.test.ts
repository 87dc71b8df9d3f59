/**
 * Adversarial TLS: every client certificate an attacker or a misconfigured
 * agency could present, against the real gateway over mTLS. Each refusal is
 * asserted by gRPC code and ErrorInfo reason, and every case ends with a good
 * agency still being served.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type ConnectionOptions } from "node:tls";
import { status } from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueryRequestSchema } from "../../src/gen/credex/v1/exchange_pb.js";
import { Purpose } from "../../src/gen/credex/v1/types_pb.js";
import { issueCertificate, loadCa, type CertificateAuthority } from "../../src/adapters/pki/certificate-authority.js";
import { issueTestCertificate, type TestCertificateFlaw } from "../../src/adapters/pki/test-certificates.js";
import { loadGatewayConfig } from "../../src/config/gateway-config.js";
import { startGateway, type RunningGateway } from "../../src/gateway/gateway.js";
import { buildGatewayParts } from "../../src/gateway/gateway-parts.js";
import { DEMO_SUBJECTS } from "../../src/demo/synthetic-data.js";
import { DEMO_AGENCIES } from "../../src/demo/demo-agencies.js";
import { auditEvents, failureOf, startTestFederation } from "../support/federation.js";
import { expectStillServing, QUERY_PATH, rawClient, type ClientTls } from "../support/adversarial.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
let issuer: CertificateAuthority;
let ca: Buffer;

const uscc = (id: string) => DEMO_AGENCIES.find((a) => a.id === id)!.uscc;
const sector = (id: string) => DEMO_AGENCIES.find((a) => a.id === id)!.sector;
const QUERY = Buffer.from(
  toBinary(QueryRequestSchema, create(QueryRequestSchema, { subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty"], purpose: Purpose.SUPERVISION })),
);

beforeAll(async () => {
  fed = await startTestFederation();
  issuer = loadCa(readFileSync(fed.pki.issuingCaCert, "utf8"), readFileSync(fed.pki.issuingCaKey, "utf8"));
  ca = readFileSync(fed.pki.caBundle);
});
afterAll(async () => {
  await fed?.cleanup();
});

async function queryWith(tls: ClientTls) {
  const client = rawClient(fed.gateway.address, tls);
  try {
    return await failureOf(client.call(QUERY_PATH, QUERY));
  } finally {
    client.close();
  }
}

async function flawed(flaw: TestCertificateFlaw, agencyId = "csrc", usccOf = agencyId) {
  return issueTestCertificate({ flaw, issuer, trustDomain: fed.pki.trustDomain, agencyId, uscc: uscc(usccOf), sector: sector(agencyId), keyBits: 2048 });
}

describe("adversarial/tls: client certificates", () => {
  it("fail/no client certificate → UNAUTHENTICATED CLIENT_CERT_MISSING", async () => {
    expect(await queryWith({ ca })).toMatchObject({ code: status.UNAUTHENTICATED, reason: "CLIENT_CERT_MISSING" });
    await expectStillServing(fed);
  });

  it.each([
    ["self-signed", "self-signed-client", "CLIENT_CERT_UNTRUSTED"],
    ["issued by another CA", "other-ca-client", "CLIENT_CERT_UNTRUSTED"],
    ["expired", "expired", "CLIENT_CERT_EXPIRED"],
    ["not yet valid", "not-yet-valid", "CLIENT_CERT_NOT_YET_VALID"],
    ["wrong key usage (serverAuth only)", "server-auth-only", "CLIENT_CERT_WRONG_USAGE"],
    ["a CA certificate as client", "ca-as-client", "CLIENT_CERT_IS_CA"],
  ] as const)("fail/%s (test flaw %s) → UNAUTHENTICATED %s", async (_name, flaw, reason) => {
    const bad = await flawed(flaw);
    const failure = await queryWith({ ca, cert: bad.chainPem, key: bad.keyPem });
    expect(failure).toMatchObject({ code: status.UNAUTHENTICATED, reason });
    // The refusal is audited under the identity the certificate claimed, never as an allowed exchange.
    const refused = (await auditEvents(fed)).filter((e) => e.statusReason === reason);
    expect(refused.length).toBeGreaterThan(0);
    for (const e of refused) expect(e.statusCode).toBe(status.UNAUTHENTICATED);
    await expectStillServing(fed);
  });

  it("fail/revoked while its connection is open → UNAUTHENTICATED CLIENT_CERT_REVOKED on the next call", async () => {
    const good = await issueCertificate({ kind: "agency", issuer, trustDomain: fed.pki.trustDomain, name: "csrc", uscc: uscc("csrc"), sector: sector("csrc"), keyBits: 2048 });
    const client = rawClient(fed.gateway.address, { ca, cert: good.chainPem, key: good.keyPem });
    try {
      expect((await client.call(QUERY_PATH, QUERY)).length).toBeGreaterThan(0);
      fed.gateway.revocations.add(good.serial, "keyCompromise");
      const failure = await failureOf(client.call(QUERY_PATH, QUERY));
      expect(failure).toMatchObject({ code: status.UNAUTHENTICATED, reason: "CLIENT_CERT_REVOKED", metadata: { revocation_reason: "keyCompromise" } });
    } finally {
      client.close();
    }
    await expectStillServing(fed, "csrc");
  });

  it("fail/SAN of one agency with the USCC of another → UNAUTHENTICATED CLIENT_IDENTITY_MISMATCH", async () => {
    // A certificate naming spiffe://…/agency/csrc but carrying pbccrc's USCC (the registry says csrc has another).
    const bad = await issueCertificate({ kind: "agency", issuer, trustDomain: fed.pki.trustDomain, name: "csrc", uscc: uscc("pbccrc"), sector: sector("csrc"), keyBits: 2048 });
    const failure = await queryWith({ ca, cert: bad.chainPem, key: bad.keyPem });
    expect(failure).toMatchObject({ code: status.UNAUTHENTICATED, reason: "CLIENT_IDENTITY_MISMATCH", metadata: { agency: "csrc", field: "serialNumber" } });
    await expectStillServing(fed);
  });

  it("fail/an agency id not in the registry → UNAUTHENTICATED AGENCY_UNKNOWN", async () => {
    const bad = await issueCertificate({ kind: "agency", issuer, trustDomain: fed.pki.trustDomain, name: "shadow-bank", uscc: uscc("csrc"), sector: "BANKING", keyBits: 2048 });
    expect(await queryWith({ ca, cert: bad.chainPem, key: bad.keyPem })).toMatchObject({ code: status.UNAUTHENTICATED, reason: "AGENCY_UNKNOWN" });
    await expectStillServing(fed);
  });
});

/** Opens a raw TLS connection; resolves to the negotiated protocol, or rejects with the TLS error. */
function handshake(port: number, options: ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername: "localhost", ca, ALPNProtocols: ["h2"], ...options });
    socket.once("secureConnect", () => {
      const protocol = socket.getProtocol() ?? "";
      socket.destroy();
      resolve(protocol);
    });
    socket.once("error", reject);
  });
}

describe("adversarial/tls: protocol versions and cipher suites", () => {
  let tls12Gateway: RunningGateway;
  let clientTls: { cert: Buffer; key: Buffer };

  beforeAll(async () => {
    const member = fed.pki.agencies["pbccrc"]!;
    clientTls = { cert: readFileSync(member.client.cert), key: readFileSync(member.client.key) };
    // A second gateway with TLS 1.2 allowed, to show that only forward-secret AEAD suites are offered then.
    const base = loadGatewayConfig(fed.configFile);
    const config = {
      ...base,
      instance: "gw-tls12",
      listen: "127.0.0.1:0",
      tls: { ...base.tls, minVersion: "TLSv1.2" as const },
      audit: { ...base.audit, file: join(fed.dir, "audit", "tls12.log"), chainState: join(fed.dir, "audit", "tls12-chain.json") },
    };
    tls12Gateway = await startGateway(config, await buildGatewayParts(config));
  });
  afterAll(async () => {
    await tls12Gateway?.stop(1_000);
  });

  it("ok/TLS 1.3 is negotiated by default", async () => {
    expect(await handshake(fed.gateway.port, clientTls)).toBe("TLSv1.3");
  });

  it.each(["TLSv1", "TLSv1.1"] as const)("fail/%s offered → handshake refused with a protocol-version alert", async (version) => {
    // SECLEVEL=0 lets this client's OpenSSL offer the old protocol at all; the gateway must still refuse it.
    const error = await handshake(fed.gateway.port, { ...clientTls, minVersion: version, maxVersion: version, ciphers: "DEFAULT@SECLEVEL=0" }).then(
      () => undefined,
      (err: NodeJS.ErrnoException) => err,
    );
    expect(error?.code).toBe("ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION");
    await expectStillServing(fed);
  });

  it("fail/TLS 1.2 against the default (TLS 1.3-only) gateway → handshake refused", async () => {
    const error = await handshake(fed.gateway.port, { ...clientTls, maxVersion: "TLSv1.2" }).then(
      () => undefined,
      (err: NodeJS.ErrnoException) => err,
    );
    expect(error?.code).toBe("ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION");
  });

  it.each(["AES128-SHA", "AES256-GCM-SHA384", "DHE-RSA-AES128-SHA", "ECDHE-RSA-AES128-SHA"])(
    "fail/TLS 1.2 with only the weak suite %s → handshake refused (no shared cipher)",
    async (cipher) => {
      const error = await handshake(tls12Gateway.port, { ...clientTls, maxVersion: "TLSv1.2", ciphers: `${cipher}@SECLEVEL=0` }).then(
        () => undefined,
        (err: NodeJS.ErrnoException) => err,
      );
      // The handshake-failure alert (RFC 8446 §6.2); OpenSSL 3.0 names it SSLV3_…, 3.5 SSL/TLS_….
      expect(error?.code).toMatch(/^ERR_SSL_(SSLV3|SSL\/TLS)_ALERT_HANDSHAKE_FAILURE$/);
      expect(await handshake(tls12Gateway.port, { ...clientTls, maxVersion: "TLSv1.2", ciphers: "ECDHE-RSA-AES128-GCM-SHA256" })).toBe("TLSv1.2");
    },
  );
});
