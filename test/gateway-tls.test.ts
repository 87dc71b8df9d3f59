import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CreditExchange, QueryRequestSchema, QueryResponseSchema } from "../src/gen/credex/v1/exchange_pb.js";
import { Purpose } from "../src/gen/credex/v1/types_pb.js";
import { DecisionEffect } from "../src/gen/credex/v1/audit_pb.js";
import { errorInfoOf } from "../src/adapters/grpc/rich-status.js";
import { createExchangeClient } from "../src/client/exchange-client.js";
import { issueCertificate, loadCa } from "../src/adapters/pki/certificate-authority.js";
import { issueTestCertificate } from "../src/adapters/pki/test-certificates.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { auditEvents, startTestFederation } from "./support/federation.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
let certDir: string;

beforeAll(async () => {
  fed = await startTestFederation();
  certDir = await mkdtemp(join(tmpdir(), "credex-tls-"));
});
afterAll(async () => {
  await fed?.cleanup();
});

const request = { subject: DEMO_SUBJECTS.tradingCompany, categories: ["administrative_penalty"], purpose: Purpose.SUPERVISION };

/** A raw grpc-js call with arbitrary client credentials: what a misconfigured or hostile peer can send. */
function rawQuery(creds: ReturnType<typeof credentials.createSsl>): Promise<{ code: number; reason: string }> {
  const client = new Client(fed.gateway.address, creds, { "grpc.ssl_target_name_override": "localhost" });
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      `/${CreditExchange.typeName}/Query`,
      (v: ReturnType<typeof create<typeof QueryRequestSchema>>) => Buffer.from(toBinary(QueryRequestSchema, v)),
      (b: Buffer) => fromBinary(QueryResponseSchema, b),
      create(QueryRequestSchema, request),
      new Metadata(),
      { deadline: Date.now() + 10_000 },
      (err: ServiceError | null) => {
        client.close();
        resolve({ code: err?.code ?? 0, reason: errorInfoOf(err ?? undefined)?.reason ?? "" });
      },
    );
  });
}

async function agencyLikeCert(name: string, pem: { certPem: string; keyPem: string; chainPem?: string }) {
  const cert = join(certDir, `${name}.crt`);
  const key = join(certDir, `${name}.key`);
  await writeFile(cert, pem.certPem + (pem.chainPem ?? ""));
  await writeFile(key, pem.keyPem, { mode: 0o600 });
  return { cert, key };
}

async function expectStillServing() {
  const ok = await fed.client("pbccrc").query(request);
  expect(ok.results.length).toBeGreaterThan(0);
}

describe("mTLS authentication at the gateway", () => {
  it("refuses a caller without a client certificate (UNAUTHENTICATED CLIENT_CERT_MISSING), audited", async () => {
    const result = await rawQuery(credentials.createSsl(readFileSync(fed.pki.caBundle)));
    expect(result).toEqual({ code: status.UNAUTHENTICATED, reason: "CLIENT_CERT_MISSING" });
    const events = (await auditEvents(fed)).filter((e) => e.statusReason === "CLIENT_CERT_MISSING");
    expect(events).toHaveLength(1);
    expect(events[0]!.decision!.effect).toBe(DecisionEffect.NONE);
    await expectStillServing();
  });

  it("refuses a certificate from another CA (CLIENT_CERT_UNTRUSTED), audited with its fingerprint", async () => {
    const issuer = loadCa(readFileSync(fed.pki.issuingCaCert, "utf8"), readFileSync(fed.pki.issuingCaKey, "utf8"));
    const bad = await issueTestCertificate({ flaw: "other-ca-client", issuer, trustDomain: fed.manifest.trustDomain, agencyId: "pbccrc", uscc: fed.manifest.agencies[0]!.uscc, sector: "BANKING" });
    const files = await agencyLikeCert("other-ca", bad);
    const result = await rawQuery(credentials.createSsl(readFileSync(fed.pki.caBundle), readFileSync(files.key), readFileSync(files.cert)));
    expect(result).toEqual({ code: status.UNAUTHENTICATED, reason: "CLIENT_CERT_UNTRUSTED" });
    const events = (await auditEvents(fed)).filter((e) => e.statusReason === "CLIENT_CERT_UNTRUSTED");
    expect(events).toHaveLength(1);
    expect(events[0]!.requester!.certFingerprint).toMatch(/^[0-9a-f]{64}$/);
    await expectStillServing();
  });

  it("refuses a valid certificate of an agency missing from the registry (AGENCY_UNKNOWN)", async () => {
    const issuer = loadCa(readFileSync(fed.pki.issuingCaCert, "utf8"), readFileSync(fed.pki.issuingCaKey, "utf8"));
    const stranger = await issueCertificate({ kind: "agency", issuer, trustDomain: fed.manifest.trustDomain, name: "stranger", uscc: "91350200MA2YJ1XR9G", sector: "BANKING", keyBits: 2048 });
    const files = await agencyLikeCert("stranger", stranger);
    const client = createExchangeClient({ address: fed.gateway.address, trustDomain: fed.manifest.trustDomain, certFile: files.cert, keyFile: files.key, caFile: fed.pki.caBundle });
    const err = (await client.query(request).catch((e: ServiceError) => e)) as ServiceError;
    client.close();
    expect(err.code).toBe(status.UNAUTHENTICATED);
    expect(errorInfoOf(err)).toMatchObject({ reason: "AGENCY_UNKNOWN", domain: "credex", metadata: { agency: "stranger" } });
    const events = (await auditEvents(fed)).filter((e) => e.statusReason === "AGENCY_UNKNOWN");
    expect(events).toHaveLength(1);
    await expectStillServing();
  });

  it("serves TLS 1.3 only by default", async () => {
    const tls = await import("node:tls");
    const [host, port] = [fed.gateway.address.split(":")[0]!, Number(fed.gateway.address.split(":")[1])];
    const outcome = await new Promise<string>((resolve) => {
      const socket = tls.connect({ host, port, ca: readFileSync(fed.pki.caBundle), servername: "localhost", maxVersion: "TLSv1.2", ALPNProtocols: ["h2"] });
      socket.once("secureConnect", () => (socket.end(), resolve(`connected ${socket.getProtocol()}`)));
      socket.once("error", (e) => resolve(`refused: ${(e as NodeJS.ErrnoException).code}`));
    });
    expect(outcome).toMatch(/^refused: ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION|^refused: ERR_SSL/);
  });
});
