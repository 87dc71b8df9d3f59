/**
 * Issue 16, item 3: the data owner checks who calls it. A reference
 * CreditProvider on 127.0.0.1, over real mTLS, called with real certificates:
 * only this trust domain's gateway, with a certificate that is not revoked
 * (CRL files re-read while the provider runs), may call Fetch or
 * ReceiveObjection; whatever level the gateway asks for, the provider releases
 * no more than its own ceiling for the requester and category, and a request
 * without a level releases nothing. The agency-side client checks the
 * gateway's certificate against its CRLs too.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CreditProvider, FetchRequestSchema, FetchResponseSchema, type FetchResponse } from "../src/gen/credex/v1/provider_pb.js";
import { ReceiveObjectionRequestSchema, ReceiveObjectionResponseSchema, type ReceiveObjectionResponse } from "../src/gen/credex/v1/objections_pb.js";
import { CreditRecordSchema, Level, Polarity, Purpose, type CreditRecord } from "../src/gen/credex/v1/types_pb.js";
import { AgencyStatus } from "../src/gen/credex/v1/exchange_pb.js";
import { channelCredentials } from "../src/adapters/grpc/provider-client.js";
import { createCa, loadCa } from "../src/adapters/pki/certificate-authority.js";
import { buildCrl } from "../src/adapters/pki/crl.js";
import { createDevPki, publishDevCrl, type DevPki } from "../src/adapters/pki/dev-pki.js";
import { createJsonLogger } from "../src/adapters/log/json-logger.js";
import { startReferenceAgency, type RunningAgency } from "../src/agency/reference-agency.js";
import type { ReloadOutcome } from "../src/gateway/tls-reloader.js";
import { createExchangeClient } from "../src/client/exchange-client.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { failureOf, startTestFederation } from "./support/federation.js";
import { credex, replaceFile, until } from "./support/certificate-ops.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;
let other: DevPki;
let dir: string;
let provider: RunningAgency;
/** The provider's log lines (JSON), newest last. */
const logLines: Array<Record<string, unknown>> = [];
const reloads: ReloadOutcome[] = [];
/** The issuing CA's CRL as this provider (and, below, the client) reads it: rewritten by the tests. */
let providerCrl: string;

const subject = DEMO_SUBJECTS.tradingCompany;
const record = (recordId: string, category: string, level: Level, fields: Array<[string, Level]> = []): CreditRecord =>
  create(CreditRecordSchema, {
    recordId,
    ownerAgency: "safe",
    subject,
    category,
    polarity: Polarity.NEGATIVE,
    level,
    occurredAt: timestampFromDate(new Date(Date.now() - 86_400_000)),
    fields: fields.map(([name, l]) => ({ name, value: `value of ${name}`, level: l })),
  });

const RECORDS = [
  record("p-1", "administrative_penalty", Level.PUBLIC),
  record("r-2", "forex_registration", Level.SHARED, [["registered", Level.SHARED], ["amount", Level.RESTRICTED]]),
  record("v-3", "forex_violation", Level.RESTRICTED),
  record("v-4", "forex_violation", Level.SENSITIVE),
];
const ALL_CATEGORIES = ["administrative_penalty", "forex_registration", "forex_violation"];

/** The provider's own ceiling: by default up to RESTRICTED; csrc gets less; nfra nothing; loan_record is not listed (nothing). */
const CEILING = {
  categories: { administrative_penalty: 1, forex_registration: 3, forex_violation: 3 },
  requesters: { csrc: { forex_violation: 1, forex_registration: 2 }, nfra: { administrative_penalty: 0, forex_registration: 0, forex_violation: 0 } },
};

interface Caller {
  fetch(request: MessageInitShape<typeof FetchRequestSchema>): Promise<FetchResponse>;
  receiveObjection(request: MessageInitShape<typeof ReceiveObjectionRequestSchema>): Promise<ReceiveObjectionResponse>;
  close(): void;
}

/** A CreditProvider caller on its own connection, presenting `cert`/`key`; it checks the provider's identity as the gateway does. */
function callerWith(address: string, files: { cert: string; key: string; ca?: string }): Caller {
  const material = { cert: readFileSync(files.cert), key: readFileSync(files.key), ca: readFileSync(files.ca ?? fed.pki.caBundle) };
  const client = new Client(address, channelCredentials(material, `spiffe://${fed.pki.trustDomain}/provider/safe`), {
    "grpc.ssl_target_name_override": "localhost",
    "grpc.default_authority": "localhost",
    "grpc.use_local_subchannel_pool": 1,
  });
  const unary = <T>(method: string, bytes: Buffer, decode: (b: Buffer) => T) =>
    new Promise<T>((resolve, reject) => {
      client.makeUnaryRequest(`/${CreditProvider.typeName}/${method}`, (b: Buffer) => b, decode, bytes, new Metadata(), { deadline: Date.now() + 5_000 }, (err: ServiceError | null, v?: T) =>
        err ? reject(err) : resolve(v!),
      );
    });
  return {
    fetch: (request) => unary("Fetch", Buffer.from(toBinary(FetchRequestSchema, create(FetchRequestSchema, request))), (b) => fromBinary(FetchResponseSchema, b)),
    receiveObjection: (request) =>
      unary("ReceiveObjection", Buffer.from(toBinary(ReceiveObjectionRequestSchema, create(ReceiveObjectionRequestSchema, request))), (b) => fromBinary(ReceiveObjectionResponseSchema, b)),
    close: () => client.close(),
  };
}

const fetchAs = (requesterAgency: string, maxLevel: Level, categories = ALL_CATEGORIES): MessageInitShape<typeof FetchRequestSchema> => ({
  exchangeId: `x-${Math.random().toString(36).slice(2)}`,
  subject,
  categories,
  purpose: Purpose.SUPERVISION,
  requesterAgency,
  maxLevel,
});
const objection = { objectionId: "o-1", recordId: "v-3", subject, grounds: "paid in full", filedBy: "pbccrc" };
const gatewayFiles = () => ({ cert: fed.pki.gateway.cert, key: fed.pki.gateway.key });
const released = (r: FetchResponse) => r.records.map((x) => `${x.recordId}[${x.fields.map((f) => f.name).join(",")}]`);
const refusalsLogged = (reason: string) => logLines.filter((l) => l["msg"] === "call refused" && l["reason"] === reason);

beforeAll(async () => {
  fed = await startTestFederation();
  dir = await mkdtemp(join(tmpdir(), "credex-provider-checks-"));
  // A second CA of another trust domain (another platform), made with the same dev PKI code.
  other = await createDevPki(join(dir, "other-pki"), { trustDomain: "other.example", agencies: [], keyBits: 2048 });
  // The provider trusts both CAs (a CA change, or a federation bundle copied in by mistake): the trust domain must still decide.
  const bundle = join(dir, "provider-ca-bundle.pem");
  writeFileSync(bundle, readFileSync(fed.pki.caBundle, "utf8") + readFileSync(other.caBundle, "utf8"));
  providerCrl = join(dir, "provider-crl.pem");
  writeFileSync(providerCrl, readFileSync(fed.pki.crl));
  const logger = createJsonLogger({ component: "agency", level: "debug", write: (line) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
  provider = await startReferenceAgency({
    agencyId: "safe",
    trustDomain: fed.pki.trustDomain,
    listen: "127.0.0.1:0",
    tls: { cert: fed.pki.agencies["safe"]!.server.cert, key: fed.pki.agencies["safe"]!.server.key, ca: bundle, crl: [fed.pki.rootCrl, providerCrl, other.rootCrl, other.crl] },
    records: RECORDS,
    ceiling: CEILING,
    logger,
    onTlsReload: (o) => void reloads.push(o),
  });
}, 120_000);
afterAll(async () => {
  await provider?.stop();
  await fed?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("item 3: the provider accepts only its trust domain's gateway", () => {
  it("ok/the gateway's certificate is answered", async () => {
    const gateway = callerWith(provider.address, gatewayFiles());
    try {
      expect(released(await gateway.fetch(fetchAs("pbccrc", Level.RESTRICTED)))).toEqual(["p-1[]", "r-2[registered,amount]", "v-3[]"]);
      expect((await gateway.receiveObjection(objection)).recordFound).toBe(true);
    } finally {
      gateway.close();
    }
  });

  it("item 3: an agency's client certificate from the same CA calling the provider directly is refused (Fetch and ReceiveObjection), and logged", async () => {
    const csrc = callerWith(provider.address, fed.pki.agencies["csrc"]!.client);
    try {
      expect(await failureOf(csrc.fetch(fetchAs("csrc", Level.SENSITIVE)))).toMatchObject({ code: status.UNAUTHENTICATED, reason: "CALLER_NOT_GATEWAY" });
      expect(await failureOf(csrc.receiveObjection(objection))).toMatchObject({ code: status.UNAUTHENTICATED, reason: "CALLER_NOT_GATEWAY" });
    } finally {
      csrc.close();
    }
    const logged = refusalsLogged("CALLER_NOT_GATEWAY");
    expect(logged.map((l) => l["method"]).sort()).toEqual(["Fetch", "ReceiveObjection"]);
    expect(logged[0]).toMatchObject({ level: "warn", component: "agency", agency: "safe", caller: `spiffe://${fed.pki.trustDomain}/agency/csrc` });
  });

  it("item 3: a gateway certificate of another trust domain (a second CA the provider trusts) is refused", async () => {
    const foreign = callerWith(provider.address, other.gateway);
    try {
      expect(await failureOf(foreign.fetch(fetchAs("pbccrc", Level.PUBLIC)))).toMatchObject({
        code: status.UNAUTHENTICATED,
        reason: "CALLER_FOREIGN_TRUST_DOMAIN",
        metadata: { trust_domain: "other.example" },
      });
    } finally {
      foreign.close();
    }
    expect(refusalsLogged("CALLER_FOREIGN_TRUST_DOMAIN")).toHaveLength(1);
  });

  it("item 3: a provider's server certificate (serverAuth only, no gateway EKU) is refused", async () => {
    const asProvider = callerWith(provider.address, fed.pki.agencies["csrc"]!.server);
    try {
      expect(await failureOf(asProvider.fetch(fetchAs("csrc", Level.PUBLIC)))).toMatchObject({ code: status.UNAUTHENTICATED, reason: "CLIENT_CERT_WRONG_USAGE" });
    } finally {
      asProvider.close();
    }
  });
});

describe("item 3: the provider's own ceiling", () => {
  it("item 3: the ceiling holds when the gateway asks for more (per requester and category; fields above it removed)", async () => {
    const gateway = callerWith(provider.address, gatewayFiles());
    try {
      // The gateway asks for SENSITIVE: the provider's default ceiling stops at RESTRICTED.
      expect(released(await gateway.fetch(fetchAs("pbccrc", Level.SENSITIVE)))).toEqual(["p-1[]", "r-2[registered,amount]", "v-3[]"]);
      // csrc: forex_violation up to PUBLIC (nothing of it here), forex_registration up to SHARED (its RESTRICTED field removed).
      expect(released(await gateway.fetch(fetchAs("csrc", Level.SENSITIVE)))).toEqual(["p-1[]", "r-2[registered]"]);
      // The gateway's lower level still binds: min(gateway, ceiling).
      expect(released(await gateway.fetch(fetchAs("pbccrc", Level.PUBLIC)))).toEqual(["p-1[]"]);
      // A category the ceiling does not list is never released.
      expect(released(await gateway.fetch(fetchAs("pbccrc", Level.SENSITIVE, ["loan_record", "administrative_penalty"])))).toEqual(["p-1[]"]);
    } finally {
      gateway.close();
    }
    expect(logLines.filter((l) => l["msg"] === "ceiling applied" && l["requester"] === "csrc").map((l) => [l["category"], l["asked"], l["ceiling"]])).toEqual([
      ["administrative_penalty", 4, 1],
      ["forex_registration", 4, 2],
      ["forex_violation", 4, 1],
    ]);
  });

  it("item 3: a requester the ceiling releases nothing to is refused with PERMISSION_DENIED", async () => {
    const gateway = callerWith(provider.address, gatewayFiles());
    try {
      expect(await failureOf(gateway.fetch(fetchAs("nfra", Level.SENSITIVE)))).toMatchObject({ code: status.PERMISSION_DENIED, reason: "NOT_PERMITTED_BY_PROVIDER", metadata: { requester: "nfra" } });
      expect(await failureOf(gateway.fetch(fetchAs("pbccrc", Level.SENSITIVE, ["loan_record"])))).toMatchObject({ code: status.PERMISSION_DENIED, reason: "NOT_PERMITTED_BY_PROVIDER" });
    } finally {
      gateway.close();
    }
    expect(refusalsLogged("NOT_PERMITTED_BY_PROVIDER")).toHaveLength(2);
  });

  it("item 3: max_level 0 (unset) releases nothing, never everything; nor does a request that names no requester", async () => {
    const gateway = callerWith(provider.address, gatewayFiles());
    try {
      expect(await failureOf(gateway.fetch(fetchAs("pbccrc", Level.UNSPECIFIED)))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: "FIELD_INVALID", metadata: { field: "max_level" } });
      expect(await failureOf(gateway.fetch(fetchAs("", Level.PUBLIC)))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: "FIELD_INVALID", metadata: { field: "requester_agency" } });
    } finally {
      gateway.close();
    }
  });
});

describe("item 3: revocation of the gateway's certificate", () => {
  const issuing = () => loadCa(readFileSync(fed.pki.issuingCaCert, "utf8"), readFileSync(fed.pki.issuingCaKey, "utf8"));

  it("item 3: a revoked gateway certificate (CRL rewritten while the provider runs) is refused after the reload, on its open connection too; a stale or unsigned CRL does not lift it", async () => {
    const open = callerWith(provider.address, gatewayFiles());
    const reloadsBefore = reloads.length;
    try {
      expect(released(await open.fetch(fetchAs("pbccrc", Level.PUBLIC)))).toEqual(["p-1[]"]);
      await publishDevCrl({ ...fed.pki, crl: providerCrl }, [{ serial: fed.pki.gateway.serial, revokedAt: new Date(), reason: "keyCompromise" }]);
      await until("the provider to reload the CRL", () => (reloads.slice(reloadsBefore).some((o) => o.ok && o.revoked === 1) ? true : undefined));

      // The connection opened before the revocation: refused on its next call (checked per call, not only at the handshake).
      expect(await failureOf(open.fetch(fetchAs("pbccrc", Level.PUBLIC)))).toMatchObject({
        code: status.UNAUTHENTICATED,
        reason: "CLIENT_CERT_REVOKED",
        metadata: { revocation_reason: "keyCompromise" },
      });
      expect(await failureOf(open.receiveObjection(objection))).toMatchObject({ code: status.UNAUTHENTICATED, reason: "CLIENT_CERT_REVOKED" });
      // A new connection: refused too.
      const fresh = callerWith(provider.address, gatewayFiles());
      try {
        expect(await failureOf(fresh.fetch(fetchAs("pbccrc", Level.PUBLIC)))).toMatchObject({ code: status.UNAUTHENTICATED, reason: "CLIENT_CERT_REVOKED" });
      } finally {
        fresh.close();
      }
      expect(refusalsLogged("CLIENT_CERT_REVOKED").length).toBeGreaterThanOrEqual(3);

      // A stale CRL without the entry, then one signed by a key that is not the issuing CA's: both refused, the revocation stays.
      const now = Date.now();
      const stale = buildCrl({ issuer: issuing(), revoked: [], crlNumber: Math.floor(now / 1000) + 1, thisUpdate: new Date(now - 3 * 86_400_000), nextUpdate: new Date(now - 86_400_000) });
      const impostor = await createCa({ commonName: `credex issuing CA (${fed.pki.trustDomain})`, keyBits: 2048 });
      const forged = buildCrl({ issuer: impostor, revoked: [], crlNumber: Math.floor(now / 1000) + 2, thisUpdate: new Date(now), nextUpdate: new Date(now + 86_400_000) });
      for (const [what, pem] of [["stale", stale.pem], ["signature", forged.pem]] as const) {
        const before = reloads.length;
        replaceFile(providerCrl, pem);
        const refused = await until(`the ${what} CRL to be refused`, () => reloads.slice(before).find((o) => !o.ok));
        expect(refused.ok ? "" : refused.reason).toContain(what);
        expect(await failureOf(open.fetch(fetchAs("pbccrc", Level.PUBLIC)))).toMatchObject({ code: status.UNAUTHENTICATED, reason: "CLIENT_CERT_REVOKED" });
      }
    } finally {
      open.close();
      // Un-revoke for the other tests: a fresh, properly signed CRL listing nothing.
      const before = reloads.length;
      await publishDevCrl({ ...fed.pki, crl: providerCrl }, []);
      await until("the provider to reload the clean CRL", () => (reloads.slice(before).some((o) => o.ok && o.revoked === 0) ? true : undefined));
    }
  });

  it("item 3: the gateway, as the providers' client, refuses a provider whose server certificate its CRLs revoke", async () => {
    const client = fed.client("csrc");
    const safeStatus = async () => (await client.query({ subject, categories: ["forex_violation"], purpose: Purpose.SUPERVISION })).results.find((r) => r.agencyId === "safe")!;
    try {
      expect((await safeStatus()).status).toBe(AgencyStatus.OK);
      await publishDevCrl(fed.pki, [{ serial: fed.pki.agencies["safe"]!.server.serial, revokedAt: new Date(), reason: "keyCompromise" }]);
      const refused = await until("the gateway to refuse safe's revoked server certificate", async () => {
        const r = await safeStatus();
        return r.status === AgencyStatus.OK ? undefined : r;
      });
      expect(refused.status).toBe(AgencyStatus.UNAVAILABLE);
      expect(refused.records).toEqual([]);
    } finally {
      await publishDevCrl(fed.pki, []);
      await until("safe to be reached again", async () => ((await safeStatus()).status === AgencyStatus.OK ? true : undefined));
      client.close();
    }
  });

  it("item 3: the client refuses a gateway whose server certificate is revoked (CRL given to the client, reloaded when rewritten; credex query too)", async () => {
    const clientCrl = join(dir, "client-crl.pem");
    writeFileSync(clientCrl, readFileSync(fed.pki.crl));
    const member = fed.pki.agencies["pbccrc"]!.client;
    const options = { address: fed.gateway.address, trustDomain: fed.pki.trustDomain, certFile: member.cert, keyFile: member.key, caFile: fed.pki.caBundle, crlFiles: [fed.pki.rootCrl, clientCrl] };
    const query = { subject, categories: ["administrative_penalty"], purpose: Purpose.SUPERVISION };
    const longLived = createExchangeClient(options);
    try {
      expect((await longLived.query(query)).results.length).toBeGreaterThan(0);
      await publishDevCrl({ ...fed.pki, crl: clientCrl }, [{ serial: fed.pki.gateway.serial, revokedAt: new Date(), reason: "keyCompromise" }]);
      // The client re-reads its CRL files when they change; its next call is refused.
      const refused = await until("the long-lived client to refuse the revoked gateway", async () => {
        try {
          await longLived.query(query, { timeoutMs: 2_000 });
          return undefined;
        } catch (err) {
          return err as ServiceError;
        }
      });
      expect(refused.code).toBe(status.UNAVAILABLE);
      expect(refused.details).toMatch(/certificate revoked/);
      // A client started with the CRL that lists the gateway: refused on its first call.
      const fresh = createExchangeClient(options);
      try {
        const err = await fresh.query(query, { timeoutMs: 2_000 }).then(
          () => undefined,
          (e: ServiceError) => e,
        );
        expect(err?.code).toBe(status.UNAVAILABLE);
        expect(err?.details).toMatch(/certificate revoked/);
      } finally {
        fresh.close();
      }
      // `credex query` checks the gateway against the CRLs its federation manifest lists.
      const cliDir = join(dir, "cli");
      mkdirSync(cliDir, { recursive: true });
      writeFileSync(join(cliDir, "federation.json"), JSON.stringify({ ...fed.manifest, crl: [fed.pki.rootCrl, clientCrl] }));
      const cli = await credex("query", "--dir", cliDir, "--as", "pbccrc", "--subject", subject.id, "--categories", "administrative_penalty", "--purpose", "SUPERVISION");
      expect(cli.code, cli.stdout).toBe(1);
      expect(cli.stderr).toMatch(/^refused: UNAVAILABLE .*certificate revoked/);
    } finally {
      longLived.close();
    }
  });
});
