import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { status } from "@grpc/grpc-js";
import { issueCertificate, loadCa } from "../src/adapters/pki/certificate-authority.js";
import { issueTestCertificate } from "../src/adapters/pki/test-certificates.js";
import { DEMO_AGENCIES } from "../src/demo/demo-agencies.js";
import { failureOf, startTestFederation } from "./support/federation.js";
import { rawClient, type ClientTls } from "./support/adversarial.js";

const run = promisify(execFile);

/**
 * A gRPC client written elsewhere (grpcurl, Go) lists the services by
 * reflection and calls Query with an agency certificate of the demo
 * federation: the protocol is usable without credex's own code.
 */
function findGrpcurl(): string {
  const candidates = [process.env["GRPCURL"], join(homedir(), "go", "bin", "grpcurl"), "/usr/local/bin/grpcurl", "/usr/bin/grpcurl"].filter(Boolean) as string[];
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error("grpcurl is needed by this test: go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3 (.ci/run does), or set GRPCURL=<path>");
  }
  return found;
}

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
let grpcurl: string;
let tlsArgs: string[];

beforeAll(async () => {
  grpcurl = findGrpcurl();
  fed = await startTestFederation();
  const pbccrc = fed.manifest.agencies.find((a) => a.id === "pbccrc")!;
  tlsArgs = ["-cacert", fed.manifest.ca, "-cert", pbccrc.cert, "-key", pbccrc.key, "-servername", "localhost"];
});
afterAll(async () => {
  await fed?.cleanup();
});

async function grpcurlRun(args: string[], tls = tlsArgs): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(grpcurl, [...tls, ...args], { timeout: 30_000 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe("reflection, from a client written elsewhere", () => {
  it("lists the services", async () => {
    const out = await grpcurlRun([fed.gateway.address, "list"]);
    expect(out.code).toBe(0);
    expect(out.stdout.split("\n")).toContain("credex.v1.CreditExchange");
  });

  // gRPC Health Checking Protocol (grpc/grpc doc/health-checking.md): a client finds the health service by reflection too.
  it("lists grpc.health.v1.Health and calls its Check through reflection", async () => {
    const list = await grpcurlRun([fed.gateway.address, "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout.split("\n")).toContain("grpc.health.v1.Health");
    const check = await grpcurlRun(["-d", JSON.stringify({ service: "credex.v1.CreditExchange" }), fed.gateway.address, "grpc.health.v1.Health/Check"]);
    expect(check.code, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout)).toEqual({ status: "SERVING" });
  });

  it("gets an answer from Query", async () => {
    const body = JSON.stringify({ subject: { type: "SUBJECT_TYPE_LEGAL_PERSON", id: "91310110666007217T" }, categories: ["administrative_penalty"], purpose: "PURPOSE_SUPERVISION" });
    const out = await grpcurlRun(["-d", body, fed.gateway.address, "credex.v1.CreditExchange/Query"]);
    expect(out.code).toBe(0);
    const response = JSON.parse(out.stdout) as { exchangeId: string; results: Array<{ agencyId: string; status: string }> };
    expect(response.exchangeId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.results.map((r) => r.status)).toContain("AGENCY_STATUS_OK");
  });

  it("gets a clear error, with its ErrorInfo decoded", async () => {
    const body = JSON.stringify({ subject: { type: "SUBJECT_TYPE_LEGAL_PERSON", id: "91310110666007217A" }, categories: ["administrative_penalty"], purpose: "PURPOSE_SUPERVISION" });
    const out = await grpcurlRun(["-d", body, fed.gateway.address, "credex.v1.CreditExchange/Query"]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain("InvalidArgument");
    expect(out.stderr).toContain('"reason": "USCC_INVALID"');
    expect(out.stderr).toContain('"domain": "credex"');
  });
});

/**
 * Issue 16, item 8: reflection describes the whole API to whoever asks, and the
 * listener completes handshakes without a client certificate (so that calls
 * can be refused with a reason). Reflection therefore checks the certificate at
 * the call, with authenticate's reasons; health stays open for load balancers.
 */
describe("item 8: reflection requires a client certificate the exchange CA vouches for", () => {
  const REFLECTION = ["/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"];
  // ServerReflectionRequest { list_services: "*" } (field 7, a string), in both versions.
  const LIST_SERVICES = Buffer.from([0x3a, 0x01, 0x2a]);
  const HEALTH_CHECK = "/grpc.health.v1.Health/Check";
  const ca = () => readFileSync(fed.manifest.ca);
  const issuer = () => loadCa(readFileSync(fed.pki.issuingCaCert, "utf8"), readFileSync(fed.pki.issuingCaKey, "utf8"));
  const csrc = DEMO_AGENCIES.find((a) => a.id === "csrc")!;

  async function listServices(tls: ClientTls, path: string): Promise<string> {
    const client = rawClient(fed.gateway.address, tls);
    try {
      return Buffer.concat(await client.duplex(path, LIST_SERVICES)).toString("latin1");
    } finally {
      client.close();
    }
  }
  async function refusal(tls: ClientTls, path: string) {
    const client = rawClient(fed.gateway.address, tls);
    try {
      return await failureOf(client.duplex(path, LIST_SERVICES));
    } finally {
      client.close();
    }
  }

  it.each(REFLECTION)("item 8: fail/reflection %s without a client certificate → UNAUTHENTICATED CLIENT_CERT_MISSING; health answers", async (path) => {
    expect(await refusal({ ca: ca() }, path)).toMatchObject({ code: status.UNAUTHENTICATED, reason: "CLIENT_CERT_MISSING" });
    const health = rawClient(fed.gateway.address, { ca: ca() });
    try {
      // HealthCheckResponse { status: SERVING (1) }
      expect(await health.call(HEALTH_CHECK, Buffer.alloc(0))).toEqual(Buffer.from([0x08, 0x01]));
    } finally {
      health.close();
    }
  });

  it("item 8: fail/grpcurl list without a client certificate → Unauthenticated, no service names", async () => {
    const out = await grpcurlRun([fed.gateway.address, "list"], ["-cacert", fed.manifest.ca, "-servername", "localhost"]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain("Unauthenticated");
    expect(out.stdout).not.toContain("credex.v1.CreditExchange");
  });

  it.each(REFLECTION)("item 8: fail/reflection %s with a certificate of another CA → UNAUTHENTICATED CLIENT_CERT_UNTRUSTED", async (path) => {
    const stranger = await issueTestCertificate({ flaw: "other-ca-client", issuer: issuer(), trustDomain: fed.pki.trustDomain, agencyId: "csrc", uscc: csrc.uscc, sector: csrc.sector, keyBits: 2048 });
    expect(await refusal({ ca: ca(), cert: stranger.chainPem, key: stranger.keyPem }, path)).toMatchObject({ code: status.UNAUTHENTICATED, reason: "CLIENT_CERT_UNTRUSTED" });
  });

  it("item 8: fail/reflection with a revoked certificate → UNAUTHENTICATED CLIENT_CERT_REVOKED", async () => {
    const revoked = await issueCertificate({ kind: "agency", issuer: issuer(), trustDomain: fed.pki.trustDomain, name: "csrc", uscc: csrc.uscc, sector: csrc.sector, keyBits: 2048 });
    fed.gateway.revocations.add(revoked.serial, "keyCompromise");
    expect(await refusal({ ca: ca(), cert: revoked.chainPem, key: revoked.keyPem }, REFLECTION[0]!)).toMatchObject({ code: status.UNAUTHENTICATED, reason: "CLIENT_CERT_REVOKED" });
  });

  it.each(REFLECTION)("item 8: ok/reflection %s with an agency's or an administrator's certificate lists the services", async (path) => {
    const agency = fed.manifest.agencies.find((a) => a.id === "pbccrc")!;
    const officer = fed.manifest.admins!.find((a) => a.role === "security")!;
    for (const holder of [agency, officer]) {
      expect(await listServices({ ca: ca(), cert: readFileSync(holder.cert), key: readFileSync(holder.key) }, path)).toContain("credex.v1.CreditExchange");
    }
  });
});
