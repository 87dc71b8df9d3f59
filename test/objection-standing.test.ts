/**
 * Issue 16, item 7: objections need standing (Credit Investigation Regulation
 * Art. 25: an objection is the subject's, filed through an agency). An agency
 * may object to a record for a subject only when it received that record in an
 * exchange the gateway audited, or presents the subject's request naming the
 * record, attested with its own certificate key. To anyone else FileObjection
 * answers exactly as for a record that does not exist, without asking the
 * owner: no existence oracle, no disputing records at will. End to end over
 * the demo federation's mTLS, with the reference agencies as owners.
 */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceError } from "@grpc/grpc-js";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuditEventType } from "../src/gen/credex/v1/audit_pb.js";
import { ObjectionStatus } from "../src/gen/credex/v1/objections_pb.js";
import { Purpose, SubjectRequestKind, SubjectType } from "../src/gen/credex/v1/types_pb.js";
import { DEMO_SUBJECTS } from "../src/demo/synthetic-data.js";
import { DEMO_TRUST_DOMAIN } from "../src/demo/federation.js";
import { signSubjectRequest } from "../src/client/subject-request.js";
import { createExchangeClient, type ExchangeClient } from "../src/client/exchange-client.js";
import { STATUS_DETAILS_KEY } from "../src/adapters/grpc/rich-status.js";
import { loadGatewayConfig } from "../src/config/gateway-config.js";
import { buildGatewayParts } from "../src/gateway/gateway-parts.js";
import { startGateway, type RunningGateway } from "../src/gateway/gateway.js";
import { auditEvents, startTestFederation } from "./support/federation.js";

type TestFederation = Awaited<ReturnType<typeof startTestFederation>>;
let fed: TestFederation;

beforeAll(async () => {
  fed = await startTestFederation();
});
afterAll(async () => {
  await fed?.cleanup();
});

const firm = DEMO_SUBJECTS.logisticsFirm; // holds sh-D-0005 (dishonest_debtor) at sh-credit
const company = DEMO_SUBJECTS.tradingCompany; // holds no sh-D-0005
const RECORD = "sh-D-0005";

/** The subject's request to object to one record, signed with `signer`'s client key (default: the presenting agency's). */
function subjectRequest(agency: string, overrides: { recordId?: string; subject?: { type: SubjectType; id: string }; signer?: string } = {}) {
  const now = Date.now();
  return signSubjectRequest(
    {
      kind: SubjectRequestKind.OBJECTION,
      requestId: `req-${agency}-${now}`,
      subject: overrides.subject ?? firm,
      ownerAgency: "sh-credit",
      recordId: overrides.recordId ?? RECORD,
      grantedAt: timestampFromDate(new Date(now - 60_000)),
      expiresAt: timestampFromDate(new Date(now + 86_400_000)),
      requesterAgency: agency,
    },
    readFileSync(fed.pki.agencies[overrides.signer ?? agency]!.client.key),
  );
}

/** Everything a refused caller sees: status code, message, and the exact google.rpc.Status bytes of the details trailer. */
async function refusalOf(call: Promise<unknown>): Promise<{ code: number; details: string; statusDetails: string }> {
  try {
    await call;
  } catch (err) {
    const e = err as ServiceError;
    const raw = e.metadata?.get(STATUS_DETAILS_KEY)[0];
    return { code: e.code, details: e.details, statusDetails: raw === undefined ? "" : Buffer.from(raw as Buffer).toString("hex") };
  }
  throw new Error("the call succeeded but was expected to be refused");
}

const grounds = "the judgment debt was paid in full";
const objectionsAt = (owner: string) => fed.agencies.get(owner)!.objections;

/** The answer for a record that does not exist: pbccrc has standing (the subject's request) and asks about a subject the owner holds no such record for. */
let notFound: { code: number; details: string; statusDetails: string };

describe("item 7: objections need standing", () => {
  it("item 7: a stranger agency filing for a record it never received gets exactly the answer for a record that does not exist (byte-equal status details); the owner is not asked", async () => {
    notFound = await refusalOf(
      fed.client("pbccrc").fileObjection({ recordId: RECORD, ownerAgency: "sh-credit", subject: company, grounds, subjectRequest: subjectRequest("pbccrc", { subject: company }) }),
    );
    expect(notFound.code).toBe(5); // NOT_FOUND, from the owner's record_found=false
    const before = objectionsAt("sh-credit").length;

    // csrc never received sh-D-0005 (nobody queried the firm yet) and presents no request of the firm. The record exists.
    const stranger = await refusalOf(fed.client("csrc").fileObjection({ recordId: RECORD, ownerAgency: "sh-credit", subject: firm, grounds, requestId: "stranger-1" }));
    expect(stranger).toEqual(notFound);
    expect(objectionsAt("sh-credit").length).toBe(before);
    expect(fed.gateway.members.objections.list((o) => o.filedBy === "csrc")).toEqual([]);

    // The audit tells officers why; the caller was not told.
    const audited = (await auditEvents(fed)).find((e) => e.type === AuditEventType.OBJECTION && e.requestId === "stranger-1")!;
    expect(audited.statusReason).toBe("RECORD_NOT_FOUND");
    expect(audited.attributes["standing"]).toBe("none");
  });

  it("item 7: after receiving the record in an exchange, the agency's objection is accepted", async () => {
    const response = await fed.client("csrc").query({ subject: firm, categories: ["dishonest_debtor"], purpose: Purpose.SUPERVISION });
    expect(response.results.find((r) => r.agencyId === "sh-credit")!.records.map((r) => r.recordId)).toContain(RECORD);
    // What the standing rests on: the exchange's audit record names the records it released, by owner.
    const exchange = (await auditEvents(fed)).find((e) => e.exchangeId === response.exchangeId)!;
    // The court's own listing of the same debtor is released beside the regional platform's copy.
    expect(exchange.release!.releasedRecords.map((r) => [r.ownerAgency, r.recordIds]).sort()).toEqual([["sh-court", ["court-D-0001"]], ["sh-credit", [RECORD]]]);
    const { objection } = await fed.client("csrc").fileObjection({ recordId: RECORD, ownerAgency: "sh-credit", subject: firm, grounds, requestId: "received-1" });
    expect(objection!.status).toBe(ObjectionStatus.OPEN);
    expect(objectionsAt("sh-credit").some((o) => o.objectionId === objection!.objectionId && o.filedBy === "csrc")).toBe(true);
    // Received for this subject only: the same record id about another subject gives no standing.
    expect(await refusalOf(fed.client("csrc").fileObjection({ recordId: RECORD, ownerAgency: "sh-credit", subject: company, grounds }))).toEqual(notFound);
    const audited = (await auditEvents(fed)).find((e) => e.type === AuditEventType.OBJECTION && e.requestId === "received-1")!;
    expect(audited.attributes["standing"]).toBe("received");
  });

  it("item 7: with a valid signed subject request naming the record, an agency that never received it is accepted", async () => {
    const { objection } = await fed.client("nfra").fileObjection({ recordId: RECORD, ownerAgency: "sh-credit", subject: firm, grounds, requestId: "requested-1", subjectRequest: subjectRequest("nfra") });
    expect(objection!.status).toBe(ObjectionStatus.OPEN);
    expect(objection!.filedBy).toBe("nfra");
    const audited = (await auditEvents(fed)).find((e) => e.type === AuditEventType.OBJECTION && e.requestId === "requested-1")!;
    expect(audited.attributes["standing"]).toBe("subject_request");
    expect(audited.attributes["subject_request_sha256"]).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ["naming another record", { recordId: "sh-D-0006" }],
    ["naming another subject", { subject: company }],
    ["signed by another agency's key", { signer: "pbccrc" }],
  ])("item 7: an attestation %s is refused like a non-existent record", async (_name, overrides) => {
    const before = objectionsAt("sh-credit").length;
    const refused = await refusalOf(fed.client("safe").fileObjection({ recordId: RECORD, ownerAgency: "sh-credit", subject: firm, grounds, subjectRequest: subjectRequest("safe", overrides) }));
    expect(refused).toEqual(notFound);
    expect(objectionsAt("sh-credit").length).toBe(before);
  });

  it("item 7: standing by receipt survives a restart: the gateway rebuilds it from its audit log", async () => {
    // pbccrc receives the record; then a gateway starts on a copy of this one's audit log and chain state (a restart).
    await fed.client("pbccrc").query({ subject: firm, categories: ["dishonest_debtor"], purpose: Purpose.SUPERVISION });
    await fed.gateway.auditSink().flush();
    const base = loadGatewayConfig(fed.configFile);
    const dir = join(fed.dir, "restarted");
    mkdirSync(dir, { recursive: true });
    const chainState = join(dir, "chain-state.json");
    const file = join(dir, "audit.log");
    // The chain state first: it must never be ahead of the log.
    copyFileSync(base.audit.chainState, chainState);
    copyFileSync(base.audit.file, file);
    const config = {
      ...base,
      listen: "127.0.0.1:0",
      audit: { ...base.audit, file, chainState },
      objections: { ...base.objections, stateFile: join(dir, "objections.json") },
      lists: { ...base.lists, file: join(dir, "lists.log") },
      observability: undefined,
    };
    let restarted: RunningGateway | undefined;
    const clients: ExchangeClient[] = [];
    try {
      restarted = await startGateway(config, await buildGatewayParts(config));
      const client = (agency: string) => {
        const member = fed.pki.agencies[agency]!;
        const c = createExchangeClient({ address: restarted!.address, trustDomain: DEMO_TRUST_DOMAIN, certFile: member.client.cert, keyFile: member.client.key, caFile: fed.pki.caBundle });
        clients.push(c);
        return c;
      };
      const { objection } = await client("pbccrc").fileObjection({ recordId: RECORD, ownerAgency: "sh-credit", subject: firm, grounds });
      expect(objection!.status).toBe(ObjectionStatus.OPEN);
      // safe never received it, on either gateway.
      expect(await refusalOf(client("safe").fileObjection({ recordId: RECORD, ownerAgency: "sh-credit", subject: firm, grounds }))).toEqual(notFound);
    } finally {
      clients.forEach((c) => c.close());
      await restarted?.stop(1_000);
    }
  });
});
